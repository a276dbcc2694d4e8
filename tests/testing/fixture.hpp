// The cluster most tests serve: node db-7 with the two checks of the Consul reference example.
#pragma once

#include <coalias/testing/consul_test_server.hpp>

#include <string>

namespace coalias::testing::test {

inline constexpr const char* db7_id = "a1b2c3d4-0000-4000-8000-000000000007";

/// Indexes after populate(): node 11, service 12, checks 13 and 14 (initial index 10).
inline void populate(consul_test_server& server) {
  server.add_node("db-7", "10.0.0.7", db7_id);
  server.add_service("db-7", service{"pg-1", "postgres"}, {"primary"}, 5432);
  server.set_check({"db-7", "serfHealth", "Serf Health Status", status::passing, "", "Agent alive and reachable", "", "", ""});
  server.set_check({"db-7", "service:pg-1", "pg port", status::warning, "", "slow connect", "pg-1", "postgres", ""}, "tcp");
}

inline const std::string db7_health_body =
    R"([{"Node":"db-7","CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing","Notes":"",)"
    R"("Output":"Agent alive and reachable","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"",)"
    R"("ExposedPort":0,"Definition":{},"CreateIndex":13,"ModifyIndex":13},)"
    R"({"Node":"db-7","CheckID":"service:pg-1","Name":"pg port","Status":"warning","Notes":"",)"
    R"("Output":"slow connect","ServiceID":"pg-1","ServiceName":"postgres","ServiceTags":["primary"],"Type":"tcp",)"
    R"("ExposedPort":0,"Definition":{},"CreateIndex":14,"ModifyIndex":14}])";

inline const std::string db7_catalog_body =
    R"({"Node":{"ID":"a1b2c3d4-0000-4000-8000-000000000007","Node":"db-7","Address":"10.0.0.7","Datacenter":"dc1",)"
    R"("TaggedAddresses":{},"Meta":{},"CreateIndex":11,"ModifyIndex":11},)"
    R"("Services":{"pg-1":{"ID":"pg-1","Service":"postgres","Tags":["primary"],"Address":"","TaggedAddresses":{},)"
    R"("Meta":{},"Port":5432,"Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,"CreateIndex":12,)"
    R"("ModifyIndex":12}}})";

}  // namespace coalias::testing::test
