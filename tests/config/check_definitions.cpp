#include <coalias/check_definitions.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace coalias;
namespace fs = std::filesystem;

namespace {

// The message of the config_error `json` raises, or "" if it parses.
std::string error_of(const std::string& json) {
  try {
    (void)parse_check_definitions(json, "web.json");
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

// A fresh directory under the temp folder, removed at the end of the test.
struct temp_dir {
  fs::path path;
  temp_dir() {
    path = fs::temp_directory_path() / ("coalias-config-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
  static inline int n = 0;
};

}  // namespace

TEST_CASE("one check in the agent configuration's spelling") {
  const auto defs = parse_check_definitions(R"({"check": {"id": "web-alias", "name": "Web alias", "notes": "n",
      "service_id": "web-sidecar", "alias_node": "db-1", "alias_service": "pg-1"}})", "web.json");
  REQUIRE(defs.size() == 1);
  const auto& d = defs[0];
  CHECK(d.alias.check_id == "web-alias");
  CHECK(d.alias.name == "Web alias");
  CHECK(d.alias.notes == "n");
  CHECK(d.alias.service_id == "web-sidecar");
  CHECK(d.alias.target == alias_target("db-1", "pg-1"));
  CHECK_FALSE(d.alias_node_is_agent);
  CHECK(d.file == "web.json");
}

TEST_CASE("a list in the HTTP API's spelling; name defaults to the id; no alias_node means the agent's node") {
  const auto defs = parse_check_definitions(R"({"checks": [
      {"ID": "a", "AliasService": "web", "ServiceID": "side", "Notes": "x"},
      {"ID": "b", "Name": "B", "AliasNode": "db-2"},
      {"id": "c", "alias_node": "", "alias_service": "web"}]})", "f.json");
  REQUIRE(defs.size() == 3);
  CHECK(defs[0].alias.check_id == "a");
  CHECK(defs[0].alias.name == "a");
  CHECK(defs[0].alias.service_id == "side");
  CHECK(defs[0].alias.notes == "x");
  CHECK(defs[0].alias.target == alias_target("", "web"));
  CHECK(defs[0].alias_node_is_agent);
  CHECK(defs[1].alias.name == "B");
  CHECK(defs[1].alias.target == alias_target("db-2", ""));
  CHECK_FALSE(defs[1].alias_node_is_agent);
  CHECK(defs[2].alias_node_is_agent);
}

TEST_CASE("\"check\" and \"checks\" together, in that order; an empty file object has no checks") {
  const auto defs = parse_check_definitions(
      R"({"checks": [{"id": "b", "alias_node": "n"}], "check": {"id": "a", "alias_node": "n"}})", "f.json");
  REQUIRE(defs.size() == 2);
  CHECK(defs[0].alias.check_id == "b");  // file order
  CHECK(defs[1].alias.check_id == "a");
  CHECK(parse_check_definitions("{}", "f.json").empty());
  CHECK(parse_check_definitions(R"({"checks": []})", "f.json").empty());
}

TEST_CASE("every error is one line naming the file, the check and the key") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"check": {"id": "w", "alias_node": "n", "http": "http://x/health", "interval": "10s"}})",
       R"(web.json: check "w": key "http": not an alias check (only alias_node and alias_service checks run here))"},
      {R"({"check": {"ID": "w", "TTL": "30s"}})",
       R"(web.json: check "w": key "TTL": not an alias check (only alias_node and alias_service checks run here))"},
      {R"({"check": {"id": "w", "alias_node": "n", "interval": "10s"}})",
       R"(web.json: check "w": key "interval": not an alias check (only alias_node and alias_service checks run here))"},
      {R"({"checks": [{"id": "w", "args": ["/bin/true"]}]})",
       R"(web.json: check "w": key "args": not an alias check (only alias_node and alias_service checks run here))"},
      {R"({"check": {"alias_node": "n", "frobs": 1, "id": "w"}})", R"(web.json: check "w": unknown key "frobs")"},
      {R"({"check": {"id": "w", "alias_node": 7}})", R"(web.json: check "w": key "alias_node": expected a string, got a number)"},
      {R"({"check": {"id": "w", "alias_node": "n", "name": null}})", R"(web.json: check "w": key "name": expected a string, got null)"},
      {R"({"check": {"id": "w", "Notes": ["x"], "alias_node": "n"}})", R"(web.json: check "w": key "Notes": expected a string, got an array)"},
      {R"({"check": {"id": "w", "alias_node": "n", "AliasNode": "m"}})", R"(web.json: check "w": key "AliasNode" repeats key "alias_node")"},
      {R"({"check": {"id": "w", "ID": "w"}})", R"(web.json: check: key "ID" repeats key "id")"},
      {R"({"check": {"id": "w"}})", R"(web.json: check "w": missing key "alias_node" or "alias_service": not an alias check)"},
      {R"({"check": {"id": "w", "alias_node": "", "alias_service": ""}})", R"(web.json: check "w": missing key "alias_node" or "alias_service": not an alias check)"},
      {R"({"check": {"name": "w", "alias_node": "n"}})", R"(web.json: check: missing key "id")"},
      {R"({"checks": [{"id": "a", "alias_node": "n"}, {"id": 3, "alias_node": "n"}]})", R"(web.json: checks[1]: key "id": expected a string, got a number)"},
      {R"({"checks": [{"id": "", "alias_node": "n"}]})", R"(web.json: checks[0]: key "id": empty)"},
      {R"({"checks": [{"id": "a", "alias_node": "n"}, {"ID": "a", "AliasNode": "m"}]})", R"(web.json: check "a": key "ID": duplicate id in this file)"},
      {R"({"checks": ["a"]})", R"(web.json: checks[0]: expected an object, got a string)"},
      {R"({"checks": {"id": "a"}})", R"(web.json: key "checks": expected an array, got an object)"},
      {R"({"check": [{"id": "a"}]})", R"(web.json: key "check": expected an object, got an array)"},
      {R"({"service": {"name": "web"}})", R"(web.json: unknown key "service" (a check-definition file has "check" or "checks"))"},
      {R"({"check": {"id": "a", "alias_node": "n"}, "check": {"id": "b", "alias_node": "n"}})", R"(web.json: key "check" given twice)"},
      {R"([])", R"(web.json: expected an object with a "check" or "checks" key, got an array)"},
      {R"({"check": {"id": "a\nb", "alias_node": "n", "x": 1}})", R"(web.json: check "a\nb": unknown key "x")"},
      {R"({"check": {"id": "w", "alias_node": ".."}})", R"(web.json: check "w": key "alias_node": ".." cannot be a node or service ID)"},
      {R"({"check": {"id": "w", "AliasService": "a\u0000b"}})", R"(web.json: check "w": key "AliasService": "a\x00b" cannot be a node or service ID)"},
      {R"({"check": {"id": "w", "alias_node": "n"}} x)", R"(web.json: invalid JSON: JSON document ended early in the middle of an object or array.)"},
  };
  for (const auto& [json, expected] : cases) {
    INFO(json);
    CHECK(error_of(json) == expected);
  }
}

TEST_CASE("broken JSON is an error, never a crash") {
  for (const std::string json : {"", "{", R"({"check": {"id": "a", )", "nul", "{\"check\": \"\xff\"}", R"({"check": {"id": "a"}]})"}) {
    INFO(json);
    const auto e = error_of(json);
    CHECK(e.rfind("web.json: ", 0) == 0);
    CHECK(e.find('\n') == std::string::npos);
  }
  CHECK(error_of("") == "web.json: invalid JSON: Empty: no JSON found");
}

TEST_CASE("a long key or id is cut in the message") {
  const std::string key(200, 'k');
  const auto e = error_of(R"({"check": {"id": "w", ")" + key + R"(": 1}})");
  CHECK(e == "web.json: check \"w\": unknown key \"" + std::string(64, 'k') + "\"...");
}

TEST_CASE("files and directories: *.json in name order, ids unique over all of them") {
  temp_dir dir;
  const auto conf = dir.path / "conf.d";
  fs::create_directories(conf);
  std::ofstream(conf / "b.json") << R"({"check": {"id": "b", "alias_node": "n"}})";
  std::ofstream(conf / "a.json") << R"({"checks": [{"id": "a1", "alias_node": "n"}, {"id": "a2", "alias_node": "n"}]})";
  std::ofstream(conf / "notes.txt") << "not json";
  fs::create_directories(conf / "sub.json");  // a directory named like a file is skipped
  const auto single = dir.write("single.json", R"({"check": {"id": "s", "alias_service": "web"}})");

  const auto defs = load_check_definitions({single, conf});
  std::vector<std::string> ids, files;
  for (const auto& d : defs) {
    ids.push_back(d.alias.check_id);
    files.push_back(fs::path(d.file).filename().string());
  }
  CHECK(ids == std::vector<std::string>{"s", "a1", "a2", "b"});
  CHECK(files == std::vector<std::string>{"single.json", "a.json", "a.json", "b.json"});

  SECTION("a duplicate id in another file names both files") {
    const auto dup = dir.write("dup.json", R"({"check": {"ID": "a2", "AliasNode": "m"}})");
    try {
      (void)load_check_definitions({conf, dup});
      FAIL("no error");
    } catch (const config_error& e) {
      CHECK(std::string(e.what()) == dup.string() + ": check \"a2\": key \"id\": duplicate id, first defined in " +
                                         (conf / "a.json").string());
    }
  }
  SECTION("a missing path") {
    try {
      (void)load_check_definitions({dir.path / "nope.json"});
      FAIL("no error");
    } catch (const config_error& e) {
      CHECK(std::string(e.what()) == (dir.path / "nope.json").string() + ": no such file or directory");
    }
  }
  SECTION("an error in a directory's file names that file") {
    std::ofstream(conf / "c.json") << R"({"check": {"id": "c", "tcp": "localhost:22"}})";
    try {
      (void)load_check_definitions({conf});
      FAIL("no error");
    } catch (const config_error& e) {
      CHECK(std::string(e.what()) == (conf / "c.json").string() +
                                         ": check \"c\": key \"tcp\": not an alias check (only alias_node and "
                                         "alias_service checks run here)");
    }
  }
  SECTION("an empty directory has no checks") {
    fs::create_directories(dir.path / "empty");
    CHECK(load_check_definitions({dir.path / "empty"}).empty());
  }
}

TEST_CASE("a path with no size to check first is still read at most 16 MiB") {
  // /dev/zero never ends: without a bound the loader would read until memory runs out.
  try {
    (void)load_check_definitions({"/dev/zero"});
    FAIL("no error");
  } catch (const config_error& e) {
    CHECK(std::string(e.what()) == "/dev/zero: larger than 16 MiB, not a check-definition file");
  }
}

TEST_CASE("a FIFO is read like a file") {
  temp_dir dir;
  const auto fifo = dir.path / "checks.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] { std::ofstream(fifo) << R"({"check": {"id": "f", "alias_node": "n"}})"; });
  const auto defs = load_check_definitions({fifo});
  writer.join();
  REQUIRE(defs.size() == 1);
  CHECK(defs[0].alias.check_id == "f");
}
