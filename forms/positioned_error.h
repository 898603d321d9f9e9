// An error about a place in a piece of text (an expression, a regex() pattern).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace outpost::forms {

class PositionedError : public std::runtime_error {
 public:
  // what() is "REASON at position N".
  PositionedError(const std::string& reason, size_t position)
      : std::runtime_error(reason + " at position " + std::to_string(position)), reason_(reason), position_(position) {}
  const std::string& reason() const { return reason_; }
  // 0-based character (not byte) index into the text.
  size_t position() const { return position_; }

 private:
  std::string reason_;
  size_t position_;
};

}  // namespace outpost::forms
