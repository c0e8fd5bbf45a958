#pragma once
/// @file
/// The name of a handler taken from its member-pointer template argument, so
/// `http<&Shop::add_item>(...)` is known as `add_item` without repeating it.

#include <string_view>

namespace tomodachi::detail {

/// The member-pointer expression of a compiler's pretty function text
/// `... [with auto Fn = &ns::Class::member; ...]` (GCC) or `[Fn = &ns::Class::member]`
/// (Clang), without a trailing template argument list: `&ns::Class::member`.
constexpr std::string_view member_expression_from_signature(std::string_view text) {
  constexpr std::string_view marker = "Fn = ";
  auto start = text.find(marker);
  if (start == std::string_view::npos) return {};
  start += marker.size();
  auto end = text.find_first_of(";]", start);
  if (end == std::string_view::npos) end = text.size();
  std::string_view expression = text.substr(start, end - start);
  // Drop template arguments at the end, e.g. `&X::f<int>` → `&X::f`.
  if (!expression.empty() && expression.back() == '>') {
    int depth = 0;
    for (auto i = expression.size(); i-- > 0;) {
      if (expression[i] == '>') ++depth;
      if (expression[i] == '<' && --depth == 0) {
        expression = expression.substr(0, i);
        break;
      }
    }
  }
  while (!expression.empty() && (expression.front() == '&' || expression.front() == '(')) {
    expression.remove_prefix(1);
  }
  while (!expression.empty() && expression.back() == ')') expression.remove_suffix(1);
  return expression;
}

/// `member` of `&ns::Class::member`.
constexpr std::string_view member_name_from_signature(std::string_view text) {
  std::string_view expression = member_expression_from_signature(text);
  const auto colon = expression.rfind("::");
  return colon == std::string_view::npos ? expression : expression.substr(colon + 2);
}

/// `Class` of `&ns::Class::member` ("" for a free function).
constexpr std::string_view class_name_from_signature(std::string_view text) {
  std::string_view expression = member_expression_from_signature(text);
  const auto member_colon = expression.rfind("::");
  if (member_colon == std::string_view::npos) return {};
  expression = expression.substr(0, member_colon);
  const auto class_colon = expression.rfind("::");
  return class_colon == std::string_view::npos ? expression : expression.substr(class_colon + 2);
}

template <auto Fn>
constexpr std::string_view signature_of() {
  return __PRETTY_FUNCTION__;
}

/// `handler_name<&Shop::add_item>()` == "add_item".
template <auto Fn>
constexpr std::string_view handler_name() {
  constexpr std::string_view name = member_name_from_signature(signature_of<Fn>());
  static_assert(!name.empty(), "tomodachi: cannot derive the handler name; pass it explicitly");
  return name;
}

/// The class a member pointer belongs to (`void` for anything else: `member_owner`
/// names the mistake).
template <typename T>
struct member_pointer_traits {
  using class_type = void;
  using result_type = void;
};
template <typename R, typename C, typename... A>
struct member_pointer_traits<R (C::*)(A...)> {
  using class_type = C;
  using result_type = R;
};
template <typename R, typename C, typename... A>
struct member_pointer_traits<R (C::*)(A...) noexcept> {
  using class_type = C;
  using result_type = R;
};

template <auto Fn>
using handler_class_t = typename member_pointer_traits<decltype(Fn)>::class_type;

}  // namespace tomodachi::detail
