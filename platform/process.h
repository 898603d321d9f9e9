// What every Outpost program sets up before anything else.
#pragma once

namespace outpost::process {

// Ignores SIGPIPE (a peer that hangs up mid-transfer is an error to report, not a reason to
// die) and keeps freed memory for reuse: sync bodies and SQLite pages are buffers of a few
// hundred KiB made again for every batch, and handing them back to the kernel each time made
// every batch fault its pages in anew, which cost more than the work done in them.
void init();

}  // namespace outpost::process
