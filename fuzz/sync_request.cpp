// libFuzzer target for what the registry reads from the network: any bytes as the JSON text of a
// sync request (platform/json_text.h, sync/protocol.h). Nothing may crash, hang, leak or reach
// undefined behaviour, and:
// - malformed JSON is a json_text::ParseError whose offset lies within the text, any other
//   refusal a std::invalid_argument;
// - the reader accepts a JSON text exactly when nlohmann::json does (nesting within its limit,
//   no NUL bytes);
// - an accepted request, written again and read back, is written the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "platform/json_text.h"
#include "sync/protocol.h"

namespace {

using outpost::json_text::ParseError;

void check(bool condition) {
  if (!condition) std::abort();
}

// The reader against nlohmann::json on the same text.
void check_reader_agrees(std::string_view text) {
  bool ours = true;
  try {
    outpost::json_text::Reader reader(text);
    reader.value();
    reader.finish();
  } catch (const ParseError& error) {
    check(error.offset() <= text.size());
    ours = false;
  } catch (const std::invalid_argument&) {
    return;  // nested deeper than the reader takes: nlohmann has no such limit
  }
  // nlohmann::json takes a NUL byte for the end of the text; the reader, rightly, does not.
  if (text.find('\0') != std::string_view::npos) return;
  check(ours == nlohmann::json::accept(text));
}

void check_request(std::string_view text) {
  outpost::sync::SyncRequest request;
  try {
    request = outpost::sync::decode_request(text);
  } catch (const ParseError& error) {
    check(error.offset() <= text.size());
    return;
  } catch (const std::invalid_argument&) {
    return;
  }
  const std::string written = outpost::sync::encode_request(request);
  check(outpost::sync::encode_request(outpost::sync::decode_request(written)) == written);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_reader_agrees(text);
  check_request(text);
  return 0;
}
