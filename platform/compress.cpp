#include "platform/compress.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <memory>

namespace outpost::compress {

namespace {

// One context of each kind per thread, kept: a context is a few hundred KiB of tables, and
// allocating (and faulting in) fresh ones for every body cost more than the work itself.
ZSTD_CCtx* compression_context() {
  thread_local std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> context(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!context) throw CompressError("zstd: out of memory");
  return context.get();
}

ZSTD_DCtx* decompression_context() {
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!context) throw CompressError("zstd: out of memory");
  return context.get();
}

ZSTD_DStream* decompression_stream() {
  thread_local std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> stream(ZSTD_createDStream(),
                                                                                 ZSTD_freeDStream);
  if (!stream) throw CompressError("zstd: out of memory");
  return stream.get();
}

}  // namespace

std::string zstd_compress(std::string_view data, int level) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t size =
      ZSTD_compressCCtx(compression_context(), out.data(), out.size(), data.data(), data.size(), level);
  if (ZSTD_isError(size)) throw CompressError(std::string("zstd compression failed: ") + ZSTD_getErrorName(size));
  out.resize(size);
  return out;
}

std::string zstd_decompress(std::string_view data, size_t max_size) {
  const std::string too_large = "body expands beyond " + std::to_string(max_size) + " bytes";
  // A frame that declares its size (zstd_compress's do) is decoded in one pass straight into the
  // answer: no window buffer and no copies. zstd checks that the frame holds what it declared.
  const unsigned long long declared = ZSTD_getFrameContentSize(data.data(), data.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) {
    if (declared > max_size) throw TooLarge(too_large);
    std::string out(static_cast<size_t>(declared), '\0');
    const size_t size = ZSTD_decompressDCtx(decompression_context(), out.data(), out.size(), data.data(), data.size());
    if (!ZSTD_isError(size)) {
      out.resize(size);
      return out;
    }
    // More frames follow the first: read them all below. Anything else is damage.
    if (ZSTD_getErrorCode(size) != ZSTD_error_dstSize_tooSmall)
      throw CompressError(std::string("corrupt zstd body: ") + ZSTD_getErrorName(size));
  }
  // Streaming, so that frames that omit their size are still bounded.
  ZSTD_DStream* stream = decompression_stream();
  ZSTD_initDStream(stream);
  std::string out;
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer input{data.data(), data.size(), 0};
  // One decoding step: returns how many bytes it produced; `last` is zstd's hint (0 = frame done).
  size_t last = 1;
  auto step = [&] {
    ZSTD_outBuffer output{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(stream, &output, &input);
    if (ZSTD_isError(last)) throw CompressError(std::string("corrupt zstd body: ") + ZSTD_getErrorName(last));
    if (out.size() + output.pos > max_size)
      throw TooLarge(too_large);
    out.append(chunk.data(), output.pos);
    return output.pos;
  };
  while (input.pos < input.size)
    if (step() == 0 && input.pos == input.size) break;
  // Flush what is still buffered inside the decoder.
  while (last != 0)
    if (step() == 0) break;
  if (last != 0) throw CompressError("truncated zstd body");
  return out;
}

}  // namespace outpost::compress
