#include <coalias/prometheus_metrics.hpp>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>

namespace coalias {
namespace {

constexpr std::array<status, 3> all_statuses = {status::passing, status::warning, status::critical};

// coalias_check_status, collected from the local state at each scrape rather than kept up to date.
class check_status_collector final : public prometheus::Collectable {
 public:
  check_status_collector(const local_state& state, std::function<bool(const health_check&)> serves)
      : state_(state), serves_(std::move(serves)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "coalias_check_status";
    family.help = "The check's status: 1 for its status, 0 for the others.";
    family.type = prometheus::MetricType::Gauge;
    for (const auto& check : state_.checks()) {
      if (serves_ && !serves_(*check)) continue;
      for (const status s : all_statuses) {
        prometheus::ClientMetric m;
        m.label = {{"id", check->check_id}, {"status", std::string(to_string(s))}};
        m.gauge.value = check->status == s ? 1.0 : 0.0;
        family.metric.push_back(std::move(m));
      }
    }
    return {std::move(family)};
  }

 private:
  const local_state& state_;
  const std::function<bool(const health_check&)> serves_;
};

}  // namespace

struct prometheus_metrics::impl {
  impl(const local_state& state, std::function<bool(const health_check&)> serves)
      : checks(state, std::move(serves)),
        publishes(prometheus::BuildCounter()
                      .Name("coalias_publishes_total")
                      .Help("Check states the Consul agent acknowledged.")
                      .Register(registry)
                      .Add({})),
        publish_failures(prometheus::BuildCounter()
                             .Name("coalias_publish_failures_total")
                             .Help("Failed publish requests.")
                             .Register(registry)
                             .Add({})),
        query_failures(prometheus::BuildCounter()
                           .Name("coalias_remote_query_failures_total")
                           .Help("Failed remote alias queries.")
                           .Register(registry)
                           .Add({})),
        latency(prometheus::BuildHistogram()
                    .Name("coalias_publish_latency_seconds")
                    .Help("From a local check change to the Consul agent's acknowledgement of it.")
                    .Register(registry)
                    .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                     0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {}

  prometheus::Registry registry;
  check_status_collector checks;
  prometheus::Counter& publishes;
  prometheus::Counter& publish_failures;
  prometheus::Counter& query_failures;
  prometheus::Histogram& latency;
};

prometheus_metrics::prometheus_metrics(const local_state& state, std::function<bool(const health_check&)> serves)
    : impl_(std::make_unique<impl>(state, std::move(serves))) {}

prometheus_metrics::~prometheus_metrics() = default;

std::string prometheus_metrics::render() const {
  std::vector<prometheus::MetricFamily> families = impl_->registry.Collect();
  for (auto& f : impl_->checks.Collect()) families.push_back(std::move(f));
  std::sort(families.begin(), families.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return prometheus::TextSerializer().Serialize(families);
}

void prometheus_metrics::on_published(std::string_view, status, std::chrono::nanoseconds since_change) {
  impl_->publishes.Increment();  // a new state: the publisher reports no heartbeat
  impl_->latency.Observe(std::chrono::duration<double>(since_change).count());
}

void prometheus_metrics::on_publish_failed(std::string_view, std::string_view) { impl_->publish_failures.Increment(); }

void prometheus_metrics::on_query_failed(std::string_view, std::string_view) { impl_->query_failures.Increment(); }

}  // namespace coalias
