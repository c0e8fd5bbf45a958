// Python-compatible JSON text (json.dumps defaults) and Python repr of JSON values.
#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace tomodachi::json {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_u_escape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  out += hex_digits[(unit >> 12) & 0xF];
  out += hex_digits[(unit >> 8) & 0xF];
  out += hex_digits[(unit >> 4) & 0xF];
  out += hex_digits[unit & 0xF];
}

// Decodes one UTF-8 sequence at `text[i]`; returns U+FFFD for malformed input and
// advances `i` past what was consumed.
std::uint32_t next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) {
    ++i;
    return lead;
  }
  int length = 0;
  std::uint32_t code = 0;
  std::uint32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07, minimum = 0x10000;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + length > text.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < length; ++k) {
    const unsigned char continuation = byte(i + k);
    if ((continuation & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    code = (code << 6) | (continuation & 0x3F);
  }
  i += length;
  if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0xFFFD;
  return code;
}

void append_ascii_escaped_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      // Copy the run of characters that need no escaping in one go.
      std::size_t run = i + 1;
      while (run < text.size()) {
        const unsigned char r = static_cast<unsigned char>(text[run]);
        if (r < 0x20 || r >= 0x7F || r == '"' || r == '\\') break;
        ++run;
      }
      out.append(text.data() + i, run - i);
      i = run;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      case '\b':
        out += "\\b";
        ++i;
        continue;
      case '\f':
        out += "\\f";
        ++i;
        continue;
      default:
        break;
    }
    const std::uint32_t code = next_code_point(text, i);
    if (code >= 0x10000) {
      const std::uint32_t v = code - 0x10000;
      append_u_escape(out, 0xD800 | (v >> 10));
      append_u_escape(out, 0xDC00 | (v & 0x3FF));
    } else {
      append_u_escape(out, code);
    }
  }
  out += '"';
}

struct ShortestDigits {
  std::string digits;  // significant digits without leading zeros, e.g. "15" for 1.5
  int decimal_point;   // value = 0.<digits> * 10^decimal_point
  bool negative;
};

ShortestDigits shortest_digits(double value) {
  std::array<char, 64> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                 std::chars_format::scientific);
  std::string_view text(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
  ShortestDigits result{{}, 0, false};
  if (!text.empty() && text.front() == '-') {
    result.negative = true;
    text.remove_prefix(1);
  }
  const auto e = text.find('e');
  const std::string_view mantissa = text.substr(0, e);
  int exponent = 0;
  const std::string_view exponent_text = text.substr(e + 1);
  std::from_chars(exponent_text.data() + (exponent_text.front() == '+' ? 1 : 0),
                  exponent_text.data() + exponent_text.size(), exponent);
  for (char c : mantissa) {
    if (c != '.') result.digits += c;
  }
  while (result.digits.size() > 1 && result.digits.back() == '0') result.digits.pop_back();
  result.decimal_point = exponent + 1;
  return result;
}

}  // namespace

std::string float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  const ShortestDigits d = shortest_digits(value);
  std::string out;
  if (d.negative) out += '-';
  if (d.digits == "0") {
    out += "0.0";
    return out;
  }
  const int point = d.decimal_point;
  const int count = static_cast<int>(d.digits.size());
  if (point <= -4 || point > 16) {
    // d.ddd e±XX (Python repr, at least two exponent digits)
    out += d.digits[0];
    if (count > 1) {
      out += '.';
      out.append(d.digits, 1);
    }
    const int exponent = point - 1;
    out += exponent < 0 ? "e-" : "e+";
    const int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
  } else if (point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out += d.digits;
  } else if (point >= count) {
    out += d.digits;
    out.append(static_cast<std::size_t>(point - count), '0');
    out += ".0";
  } else {
    out.append(d.digits, 0, static_cast<std::size_t>(point));
    out += '.';
    out.append(d.digits, static_cast<std::size_t>(point));
  }
  return out;
}

bool is_big_int(const boost::json::value& value) noexcept {
  const auto* object = value.if_object();
  if (object == nullptr || object->size() != 1) return false;
  const auto& member = *object->begin();
  return std::string_view(member.key().data(), member.key().size()) == big_int_key &&
         member.value().is_string();
}

std::string_view big_int_digits(const boost::json::value& value) {
  if (!is_big_int(value)) throw ArgumentError("big_int_digits: not a big integer: " + dumps(value));
  const auto& digits = value.get_object().begin()->value().get_string();
  return {digits.data(), digits.size()};
}

boost::json::value big_int(std::string_view digits) {
  const std::string_view magnitude =
      !digits.empty() && digits.front() == '-' ? digits.substr(1) : digits;
  const bool well_formed = !magnitude.empty() && (magnitude == "0" || magnitude.front() != '0') &&
                           magnitude.find_first_not_of("0123456789") == std::string_view::npos;
  if (!well_formed)
    throw ArgumentError("big_int: not a decimal integer: '" + std::string(digits) + "'");
  const char* const first = digits.data();
  const char* const last = digits.data() + digits.size();
  std::int64_t signed_value = 0;
  if (const auto [end, ec] = std::from_chars(first, last, signed_value);
      ec == std::errc{} && end == last) {
    return signed_value;
  }
  std::uint64_t unsigned_value = 0;
  if (const auto [end, ec] = std::from_chars(first, last, unsigned_value);
      ec == std::errc{} && end == last) {
    return unsigned_value;
  }
  boost::json::object holder;
  holder.emplace(big_int_key, boost::json::string(digits));
  return holder;
}

void dumps_to(std::string& out, const boost::json::value& value) {
  if (value.is_object() && is_big_int(value)) {
    out += big_int_digits(value);
    return;
  }
  switch (value.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64: {
      std::array<char, 24> buffer{};
      auto [end, ec] =
          std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.get_int64());
      out.append(buffer.data(), end);
      return;
    }
    case boost::json::kind::uint64: {
      std::array<char, 24> buffer{};
      auto [end, ec] =
          std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.get_uint64());
      out.append(buffer.data(), end);
      return;
    }
    case boost::json::kind::double_: {
      const double d = value.get_double();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d < 0 ? "-Infinity" : "Infinity";
      } else {
        out += float_repr(d);
      }
      return;
    }
    case boost::json::kind::string: {
      const auto& s = value.get_string();
      append_ascii_escaped_string(out, std::string_view(s.data(), s.size()));
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ", ";
        first = false;
        dumps_to(out, element);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ", ";
        first = false;
        append_ascii_escaped_string(out,
                                    std::string_view(member.key().data(), member.key().size()));
        out += ": ";
        dumps_to(out, member.value());
      }
      out += '}';
      return;
    }
  }
}

std::string dumps(const boost::json::value& value) {
  std::string out;
  dumps_to(out, value);
  return out;
}

namespace {

bool is_printable(std::uint32_t code) {
  // Python's str.isprintable(): no control characters, no separators other than space.
  if (code < 0x20 || code == 0x7F) return false;
  if (code >= 0x80 && code < 0xA0) return false;
  if (code == 0xAD || code == 0x2028 || code == 0x2029) return false;
  if (code >= 0xD800 && code <= 0xDFFF) return false;
  return true;
}

void append_python_str_repr(std::string& out, std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  out += quote;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    const std::uint32_t code = next_code_point(text, i);
    if (code == static_cast<std::uint32_t>(quote) || code == '\\') {
      out += '\\';
      out += static_cast<char>(code);
    } else if (code == '\n') {
      out += "\\n";
    } else if (code == '\r') {
      out += "\\r";
    } else if (code == '\t') {
      out += "\\t";
    } else if (!is_printable(code)) {
      char buffer[16];
      if (code < 0x100) {
        std::snprintf(buffer, sizeof buffer, "\\x%02x", code);
      } else if (code < 0x10000) {
        std::snprintf(buffer, sizeof buffer, "\\u%04x", code);
      } else {
        std::snprintf(buffer, sizeof buffer, "\\U%08x", code);
      }
      out += buffer;
    } else {
      out.append(text.data() + start, i - start);
    }
  }
  out += quote;
}

void append_python_repr(std::string& out, const boost::json::value& value) {
  if (value.is_object() && is_big_int(value)) {
    out += big_int_digits(value);
    return;
  }
  switch (value.kind()) {
    case boost::json::kind::null:
      out += "None";
      return;
    case boost::json::kind::bool_:
      out += value.get_bool() ? "True" : "False";
      return;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      dumps_to(out, value);
      return;
    case boost::json::kind::double_:
      out += float_repr(value.get_double());
      return;
    case boost::json::kind::string: {
      const auto& s = value.get_string();
      append_python_str_repr(out, std::string_view(s.data(), s.size()));
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ", ";
        first = false;
        append_python_repr(out, element);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ", ";
        first = false;
        append_python_str_repr(out, std::string_view(member.key().data(), member.key().size()));
        out += ": ";
        append_python_repr(out, member.value());
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string python_repr(const boost::json::value& value) {
  std::string out;
  append_python_repr(out, value);
  return out;
}

}  // namespace tomodachi::json
