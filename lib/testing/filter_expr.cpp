#include "filter_expr.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

namespace coalias::testing::detail {

struct filter_expr::node {
  enum class kind { equal, not_equal, all_of, any_of } what = kind::equal;
  std::string selector;
  std::string value;
  std::vector<std::shared_ptr<const node>> children;
  // An `or` of `==` on one selector (`Node == "a" or Node == "b" ...`, a client's group query) is looked up in a
  // set rather than compared term by term, so a filter naming thousands of nodes costs one lookup per record.
  std::unordered_set<std::string> any_of_values;
  std::vector<std::string> sorted_values;  // any_of_values for equality_values()
};

namespace {

using node_ptr = std::shared_ptr<const filter_expr::node>;
using node = filter_expr::node;

bool is_selector_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

// sorted_values from any_of_values, in the order of their ASCII-lower-cased forms (see equality_values): sorted
// once per filter, not per answer.
void sort_values(node& n) {
  std::vector<std::pair<std::string, const std::string*>> keyed;
  keyed.reserve(n.any_of_values.size());
  for (const auto& v : n.any_of_values) keyed.emplace_back(coalias::detail::ascii_lower(v), &v);
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first < b.first : *a.second < *b.second; });
  n.sorted_values.reserve(keyed.size());
  for (const auto& k : keyed) n.sorted_values.push_back(*k.second);
}

class parser {
 public:
  parser(std::string_view text, const std::vector<std::string_view>& selectors) : s_(text), selectors_(selectors) {}

  node_ptr run(std::string& error) {
    node_ptr root = or_expr();
    skip_space();
    if (error_.empty() && at_ < s_.size()) fail("unexpected text at offset " + std::to_string(at_));
    if (!error_.empty()) {
      error = error_;
      return nullptr;
    }
    return root;
  }

 private:
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  void skip_space() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) ++at_;
  }
  std::string_view word() {
    skip_space();
    std::size_t end = at_;
    while (end < s_.size() && is_selector_char(s_[end])) ++end;
    return s_.substr(at_, end - at_);
  }
  bool keyword(std::string_view k) {
    if (word() != k) return false;
    at_ += k.size();
    return true;
  }

  node_ptr combine(node::kind k, node_ptr first, node_ptr (parser::*next)(), std::string_view op) {
    std::vector<node_ptr> items{std::move(first)};
    while (error_.empty() && keyword(op)) items.push_back((this->*next)());
    if (items.size() == 1) return items.front();
    auto n = std::make_shared<node>();
    n->what = k;
    n->children = std::move(items);
    const auto same_equal = [&](const node_ptr& c) {
      return c && c->what == node::kind::equal && c->selector == n->children.front()->selector;
    };
    if (k == node::kind::any_of && std::all_of(n->children.begin(), n->children.end(), same_equal)) {
      n->selector = n->children.front()->selector;
      for (const auto& c : n->children) n->any_of_values.insert(c->value);
      sort_values(*n);
    }
    return n;
  }
  node_ptr or_expr() { return combine(node::kind::any_of, and_expr(), &parser::and_expr, "or"); }
  node_ptr and_expr() { return combine(node::kind::all_of, primary(), &parser::primary, "and"); }

  node_ptr primary() {
    if (!error_.empty()) return nullptr;
    skip_space();
    if (at_ < s_.size() && s_[at_] == '(') {
      ++at_;
      node_ptr inner = or_expr();
      skip_space();
      if (at_ >= s_.size() || s_[at_] != ')') fail("missing ')'");
      else ++at_;
      return inner;
    }
    const std::string_view sel = word();
    if (sel.empty()) {
      fail(at_ >= s_.size() ? "unexpected end of the expression" : "unexpected text at offset " + std::to_string(at_));
      return nullptr;
    }
    if (sel == "not") {
      fail("the 'not' operator is not supported by the test server");
      return nullptr;
    }
    at_ += sel.size();
    if (std::find(selectors_.begin(), selectors_.end(), sel) == selectors_.end()) {
      fail("Selector \"" + std::string(sel) + "\" is not valid");
      return nullptr;
    }
    auto n = std::make_shared<node>();
    n->selector = std::string(sel);
    skip_space();
    if (s_.substr(at_, 2) == "==") {
      n->what = node::kind::equal;
    } else if (s_.substr(at_, 2) == "!=") {
      n->what = node::kind::not_equal;
    } else {
      const std::string_view op = word();
      fail(op.empty() ? "expected == or != after " + std::string(sel)
                      : "the '" + std::string(op) + "' operator is not supported by the test server");
      return nullptr;
    }
    at_ += 2;
    skip_space();
    if (at_ >= s_.size() || (s_[at_] != '"' && s_[at_] != '`')) {
      fail("expected a quoted value after " + std::string(sel));
      return nullptr;
    }
    const char quote = s_[at_++];
    for (;;) {
      if (at_ >= s_.size()) {
        fail("unterminated string");
        return nullptr;
      }
      const char c = s_[at_++];
      if (c == quote) break;
      if (c == '\\' && quote == '"') {
        if (at_ >= s_.size() || (s_[at_] != '"' && s_[at_] != '\\')) {
          fail("only \\\" and \\\\ escapes are supported by the test server");
          return nullptr;
        }
        n->value += s_[at_++];
        continue;
      }
      n->value += c;
    }
    return n;
  }

  std::string_view s_;
  const std::vector<std::string_view>& selectors_;
  std::size_t at_ = 0;
  std::string error_;
};

bool eval(const node& n, const field_reader& read) {
  switch (n.what) {
    case node::kind::equal:
      return read(n.selector).value_or(std::string_view()) == n.value;
    case node::kind::not_equal:
      return read(n.selector).value_or(std::string_view()) != n.value;
    case node::kind::all_of:
      return std::all_of(n.children.begin(), n.children.end(), [&](const node_ptr& c) { return eval(*c, read); });
    case node::kind::any_of:
      if (!n.any_of_values.empty())
        return n.any_of_values.contains(std::string(read(n.selector).value_or(std::string_view())));
      return std::any_of(n.children.begin(), n.children.end(), [&](const node_ptr& c) { return eval(*c, read); });
  }
  return false;
}

}  // namespace

std::optional<filter_expr> filter_expr::parse(std::string_view text, const std::vector<std::string_view>& selectors,
                                              std::string& error) {
  parser p(text, selectors);
  node_ptr root = p.run(error);
  if (!root) return std::nullopt;
  if (root->what == node::kind::equal) {
    // One `==` is the smallest group a client asks for: give it the value set too (see equality_values).
    auto single = std::make_shared<node>(*root);
    single->any_of_values.insert(single->value);
    single->sorted_values.push_back(single->value);
    root = std::move(single);
  }
  filter_expr out;
  out.root_ = std::move(root);
  return out;
}

const std::vector<std::string>* filter_expr::equality_values(std::string_view selector) const {
  if (root_ == nullptr || root_->sorted_values.empty() || root_->selector != selector) return nullptr;
  return &root_->sorted_values;
}

bool filter_expr::matches(const field_reader& read) const { return root_ == nullptr || eval(*root_, read); }

}  // namespace coalias::testing::detail
