// Included by the targets that decode protobuf: libprotobuf logs every string field with invalid
// UTF-8 it refuses, which would be most of a fuzzer's output and much of its time.
#pragma once

#include <google/protobuf/stubs/logging.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}
