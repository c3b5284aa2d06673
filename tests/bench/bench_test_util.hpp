// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the bench tests: tiny runs and the objects a run may leave behind.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <set>
#include <string>

#include "engine/bench.hpp"

namespace ipckit::bench::test {

// A run short enough for a test: 64-byte frames, 30 ms windows, one repeat.
inline BenchOptions tiny(std::vector<std::string> mechanisms) {
  BenchOptions o;
  o.mechanisms = std::move(mechanisms);
  o.sizes = {64};
  o.duration_s = 0.03;
  o.repeats = 1;
  o.command = "test";
  return o;
}

// Names in /dev/shm and /tmp that a bench run in process `pid` creates ("ipckit.bench.<pid>.*").
inline std::set<std::string> bench_objects(pid_t pid = ::getpid()) {
  std::set<std::string> out;
  const std::string prefix = "ipckit.bench." + std::to_string(pid) + ".";
  for (const char* dir : {"/dev/shm", "/tmp"}) {
    if (DIR* d = ::opendir(dir)) {
      while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.rfind(prefix, 0) == 0) out.insert(std::string(dir) + "/" + name);
      }
      ::closedir(d);
    }
  }
  return out;
}

}  // namespace ipckit::bench::test
