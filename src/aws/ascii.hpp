#pragma once
// ASCII character classes for names, signatures and protocol text: unlike <cctype>, they
// do not depend on the process's locale (AWS rules are defined on ASCII bytes).

namespace tomodachi::aws::ascii {

constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_alnum(unsigned char c) noexcept { return is_digit(c) || is_alpha(c); }
/// ' ', \t, \n, \v, \f, \r (the "C" locale's isspace).
constexpr bool is_space(unsigned char c) noexcept { return c == ' ' || (c >= '\t' && c <= '\r'); }
constexpr char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace tomodachi::aws::ascii
