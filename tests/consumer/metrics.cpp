// Links coalias-metrics from an install: renders one check's state set.
#include <coalias/local_state.hpp>
#include <coalias/prometheus_metrics.hpp>

#include <cstdio>
#include <string>

int main() {
  coalias::local_state state("node-1");
  coalias::health_check check;
  check.check_id = "web";
  check.status = coalias::status::passing;
  state.add_check(check);
  coalias::prometheus_metrics metrics(state);
  const std::string text = metrics.render();
  if (text.find("coalias_check_status{id=\"web\",status=\"passing\"} 1") == std::string::npos) {
    std::fprintf(stderr, "unexpected exposition:\n%s", text.c_str());
    return 1;
  }
  std::puts("metrics: ok");
}
