#include "platform/json_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "platform/utf8.h"

namespace outpost::json_text {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the well-formed UTF-8 sequence starting at text[at] (a byte >= 0x80), or 0.
size_t utf8_sequence(std::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u; };
  const unsigned lead = byte(at);
  const auto continuation = [&](size_t i, unsigned low = 0x80, unsigned high = 0xBF) {
    return byte(i) >= low && byte(i) <= high;
  };
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(at + 1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    // No overlong forms (E0 A0..), no UTF-16 surrogates (ED ..9F).
    const unsigned low = lead == 0xE0 ? 0xA0 : 0x80, high = lead == 0xED ? 0x9F : 0xBF;
    return continuation(at + 1, low, high) && continuation(at + 2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const unsigned low = lead == 0xF0 ? 0x90 : 0x80, high = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(at + 1, low, high) && continuation(at + 2) && continuation(at + 3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

ParseError::ParseError(size_t offset, const std::string& what)
    : std::invalid_argument("at byte " + std::to_string(offset) + ": " + what), offset_(offset) {}

// --- Writing

void append_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t plain = 0;  // start of the run of characters copied as they are
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text, plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(text, plain, text.size() - plain);
  out += '"';
}

std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_string(out, text);
  return out;
}

// --- Reading: the small pieces

void Reader::fail(const std::string& what) const { throw ParseError(at_, what); }

void Reader::skip_space() {
  while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t'))
    ++at_;
}

char Reader::peek() {
  skip_space();
  return at_ < text_.size() ? text_[at_] : '\0';
}

void Reader::expect(char c) {
  if (peek() != c) fail(at_ < text_.size() ? std::string("expected '") + c + "'" : std::string("unexpected end"));
  ++at_;
}

void Reader::expected(const char* what) {
  const char c = peek();
  if (c == '{' || c == '[' || c == '"' || c == '-' || is_digit(c) || c == 't' || c == 'f' || c == 'n')
    throw std::invalid_argument(std::string("expected ") + what);
  fail(c == '\0' ? std::string("unexpected end") : std::string("expected ") + what);
}

void Reader::open(char bracket) {
  if (peek() != bracket) expected(bracket == '{' ? "an object" : "an array");
  ++at_;
}

bool Reader::consume_if(char c) {
  if (peek() != c) return false;
  ++at_;
  return true;
}

bool Reader::more(char close) {
  if (consume_if(',')) return true;
  if (consume_if(close)) return false;
  fail(std::string("expected ',' or '") + close + "'");
}

void Reader::finish() {
  skip_space();
  if (at_ < text_.size()) fail("unexpected text after the end");
}

// --- Reading: scalars

void Reader::read_string(std::string& out) {
  out.clear();
  if (peek() != '"') fail("expected a string");
  ++at_;
  for (;;) {
    if (at_ >= text_.size()) fail("unterminated string");
    const auto c = static_cast<unsigned char>(text_[at_]);
    if (c == '"') {
      ++at_;
      return;
    }
    if (c < 0x20) fail("control character in a string");
    if (c >= 0x80) {
      const size_t length = utf8_sequence(text_, at_);
      if (length == 0) fail("invalid UTF-8 in a string");
      out.append(text_, at_, length);
      at_ += length;
      continue;
    }
    ++at_;
    if (c != '\\') {
      out += static_cast<char>(c);
      continue;
    }
    if (at_ >= text_.size()) fail("unterminated string");
    const char escape = text_[at_++];
    switch (escape) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        const auto hex4 = [&] {
          uint32_t code = 0;
          for (int i = 0; i < 4; ++i) {
            const int digit = at_ < text_.size() ? hex_digit(text_[at_]) : -1;
            if (digit < 0) fail("expected four hex digits after \\u");
            code = code * 16 + static_cast<uint32_t>(digit);
            ++at_;
          }
          return code;
        };
        uint32_t code = hex4();
        if (code >= 0xDC00 && code <= 0xDFFF) fail("lone low surrogate in a string");
        if (code >= 0xD800 && code <= 0xDBFF) {
          if (text_.substr(at_, 2) != "\\u") fail("high surrogate without its low half");
          at_ += 2;
          const uint32_t low = hex4();
          if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate without its low half");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        utf8::append(out, code);
        break;
      }
      default: --at_; fail("invalid escape in a string");
    }
  }
}

void Reader::scan_string() {
  // Validating costs the same as decoding; the decoded text is dropped.
  std::string scratch;
  read_string(scratch);
}

void Reader::scan_number() {
  const size_t start = at_;
  const auto digits = [&] {
    const size_t from = at_;
    while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
    return at_ > from;
  };
  if (at_ < text_.size() && text_[at_] == '-') ++at_;
  if (at_ < text_.size() && text_[at_] == '0') {
    ++at_;
  } else if (!digits()) {
    fail("expected a number");
  }
  if (at_ < text_.size() && text_[at_] == '.') {
    ++at_;
    if (!digits()) fail("expected digits after the decimal point");
  }
  if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
    ++at_;
    if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
    if (!digits()) fail("expected digits in the exponent");
  }
  // A number beyond what a double holds (1e400) is refused, as nlohmann::json refuses it: every
  // device reads values with it.
  const std::string_view number = text_.substr(start, at_ - start);
  if (number.size() > 300 || number.find_first_of("eE") != std::string_view::npos) {
    const double value = std::strtod(std::string(number).c_str(), nullptr);
    if (!std::isfinite(value)) {
      at_ = start;
      fail("number out of range");
    }
  }
}

void Reader::scan_literal(std::string_view word) {
  if (text_.substr(at_, word.size()) != word) fail("expected a value");
  at_ += word.size();
}

std::string Reader::string() {
  if (peek() != '"') expected("a string");
  std::string out;
  read_string(out);
  return out;
}

int64_t Reader::integer() {
  const char first = peek();
  if (first != '-' && !is_digit(first)) expected("an integer");
  const size_t start = at_;
  scan_number();
  const std::string_view number = text_.substr(start, at_ - start);
  if (number.find_first_of(".eE") != std::string_view::npos) throw std::invalid_argument("expected an integer");
  const bool negative = number[0] == '-';
  uint64_t magnitude = 0;
  constexpr uint64_t kLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (char c : number.substr(negative ? 1 : 0)) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (kLimit + (negative ? 1 : 0) - digit) / 10) throw std::invalid_argument("integer out of range");
    magnitude = magnitude * 10 + digit;
  }
  if (!negative) return static_cast<int64_t>(magnitude);
  return magnitude == kLimit + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(magnitude);
}

bool Reader::boolean() {
  const char first = peek();
  if (first == 't') {
    scan_literal("true");
    return true;
  }
  if (first == 'f') {
    scan_literal("false");
    return false;
  }
  expected("true or false");
}

bool Reader::null() {
  if (peek() != 'n') return false;
  scan_literal("null");
  return true;
}

// --- Reading: any value

std::string_view Reader::value(int max_depth) {
  const char first = peek();
  if (first == '\0') fail("unexpected end");
  const size_t start = at_;
  open_.clear();
  for (;;) {
    // Here a value starts.
    const char c = peek();
    bool complete = true;  // a scalar or an empty container was read whole
    if (c == '{' || c == '[') {
      if (static_cast<int>(open_.size()) >= max_depth)
        throw std::invalid_argument("nested deeper than " + std::to_string(max_depth) + " levels");
      ++at_;
      const char close = c == '{' ? '}' : ']';
      if (!consume_if(close)) {
        open_.push_back(c);
        complete = false;
        if (c == '{') {
          scan_string();
          expect(':');
        }
      }
    } else if (c == '"') {
      scan_string();
    } else if (c == '-' || is_digit(c)) {
      scan_number();
    } else if (c == 't') {
      scan_literal("true");
    } else if (c == 'f') {
      scan_literal("false");
    } else if (c == 'n') {
      scan_literal("null");
    } else {
      fail(c == '\0' ? "unexpected end" : "expected a value");
    }
    if (!complete) continue;
    // A value ended: close what it ended, then go on to the next member or element.
    for (;;) {
      if (open_.empty()) return text_.substr(start, at_ - start);
      const bool in_object = open_.back() == '{';
      if (!more(in_object ? '}' : ']')) {
        open_.pop_back();
        continue;
      }
      if (in_object) {
        scan_string();
        expect(':');
      }
      break;
    }
  }
}

}  // namespace outpost::json_text
