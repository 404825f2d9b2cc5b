// Small files a node keeps beside its engine (EPOCH, RUNNING, CLUSTER), written so that a crash
// leaves either the old or the new content, never a torn one.
#pragma once

#include <string>

#include "core/status.h"

namespace md::runtime {

// Writes `content` to a temporary file, fsyncs it, renames it over `path` and fsyncs the directory.
Status write_file_durably(const std::string& path, const std::string& content);

}  // namespace md::runtime
