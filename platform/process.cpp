#include "platform/process.h"

#include <malloc.h>

#include <csignal>

namespace outpost::process {

void init() {
  std::signal(SIGPIPE, SIG_IGN);
  // Large blocks from the heap rather than from fresh mappings, and the heap's top kept.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
}

}  // namespace outpost::process
