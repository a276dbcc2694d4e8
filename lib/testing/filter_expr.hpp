// The subset of Consul's `filter` language (go-bexpr) the test server understands: `Sel == "v"` and `Sel != "v"`
// (double-quoted or backquoted values), combined with `and`, `or` and parentheses, `and` binding tighter. Every
// other form of the language (`not`, `matches`, `contains`, `in`, `is empty`, ...) is refused with a message
// saying so, rather than being guessed at.
//
// Thread safety: a parsed filter is immutable; any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace coalias::testing::detail {

/// Reads selector `name` of one record; nullopt for a selector the record type does not have.
using field_reader = std::function<std::optional<std::string_view>(std::string_view name)>;

class filter_expr {
 public:
  /// Parses `text`. `selectors` are the ones the endpoint's records have (matched exactly, as bexpr does).
  /// On failure returns nullopt and sets `error` to a one-line reason.
  static std::optional<filter_expr> parse(std::string_view text, const std::vector<std::string_view>& selectors,
                                          std::string& error);

  /// True when the record read through `read` matches. Selectors were validated by parse.
  bool matches(const field_reader& read) const;

  /// When the whole filter is `sel == "a"` or `sel == "a" or sel == "b" ...` on `selector`, the values it accepts
  /// (exact, as bexpr compares), each once, in the order of their ASCII-lower-cased forms (the order of node
  /// names in answers): an endpoint can look those records up by an index instead of testing every one, without
  /// sorting them per answer. Null for any other filter.
  const std::vector<std::string>* equality_values(std::string_view selector) const;

  struct node;

 private:
  std::shared_ptr<const node> root_;
};

}  // namespace coalias::testing::detail
