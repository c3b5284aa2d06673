// SPDX-License-Identifier: Apache-2.0
// main() for every test binary: runs GoogleTest, or a registered helper when invoked as
// `<test binary> --ipckit-helper NAME ARGS...` (how tests exec a fresh process of their own).
#include <cstdio>
#include <cstring>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--ipckit-helper") == 0) {
    auto& registry = ipckit::test::helper_registry();
    auto it = registry.find(argv[2]);
    if (it == registry.end()) {
      std::fprintf(stderr, "unknown test helper %s\n", argv[2]);
      return 127;
    }
    return it->second(std::vector<std::string>(argv + 3, argv + argc));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
