// The figures operators watch, in Prometheus text format (0.0.4), built with prometheus-cpp. Lives in its own
// library, coalias-metrics (pkg-config `coalias-metrics`, CMake `coalias::metrics`), so a program that does not
// export metrics does not depend on prometheus-cpp.
//
//   coalias_check_status{id,status}        1 for the check's status, 0 for the two others (a state set), per
//                                          served check, read from the local state at each render
//   coalias_publishes_total                new check states the Consul agent acknowledged
//   coalias_publish_failures_total         failed publish requests
//   coalias_remote_query_failures_total    failed remote-alias queries
//   coalias_publish_latency_seconds        histogram: from a local change to the agent's acknowledgement of it
//                                          (`since_change` of publish_observer::on_published)
//
// Give it to a publisher (`publish_options::observer`) and a hub (`remote_options::observer`), and its `render`
// to a health endpoint:
//
//   coalias::prometheus_metrics metrics(state);
//   coalias::endpoint_options o;
//   o.metrics = [&metrics] { return metrics.render(); };
//
// Thread safety: every member function may be called from any thread, concurrently (the hooks only touch
// prometheus-cpp's atomic counters and histogram). Lifetime: it must outlive the publisher,
// hub and endpoint it was given to; the local state must outlive it.
#pragma once

#include <coalias/health_check.hpp>
#include <coalias/local_state.hpp>
#include <coalias/observer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace coalias {

class prometheus_metrics final : public publish_observer, public remote_observer {
 public:
  /// `serves` selects the checks that get `coalias_check_status` (empty: all), as `endpoint_options::serves`.
  explicit prometheus_metrics(const local_state& state, std::function<bool(const health_check&)> serves = {});
  prometheus_metrics(const prometheus_metrics&) = delete;
  prometheus_metrics& operator=(const prometheus_metrics&) = delete;
  ~prometheus_metrics() override;

  /// Every metric in text format 0.0.4 (prometheus::TextSerializer), families in name order.
  std::string render() const;

  void on_published(std::string_view check_id, status s, std::chrono::nanoseconds since_change) override;
  void on_publish_failed(std::string_view check_id, std::string_view reason) override;
  void on_query_failed(std::string_view node, std::string_view reason) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace coalias
