// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/ownership.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace ipckit {

std::string user_name(uid_t uid) {
  // getpwuid_r with a fixed buffer: no static storage shared between threads.
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::array<char, 1024> buf{};
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return fmt::format("uid {}", uid);
}

namespace {

std::string describe_owner(uid_t uid) {
  const std::string name = user_name(uid);
  return name.rfind("uid ", 0) == 0 ? name : fmt::format("uid {} ({})", uid, name);
}

bool trusted_owner(const ObjectOwner& owner, const TrustPolicy& policy) {
  if (owner.uid == ::geteuid()) return true;
  if (std::find(policy.allowed_uids.begin(), policy.allowed_uids.end(), owner.uid) != policy.allowed_uids.end()) {
    return true;
  }
  return std::find(policy.allowed_gids.begin(), policy.allowed_gids.end(), owner.gid) != policy.allowed_gids.end();
}

}  // namespace

Result<void> check_owner(const ObjectOwner& owner, mode_t allowed_mode, const TrustPolicy& policy,
                         std::string_view call, std::string_view object) {
  const mode_t mode = owner.mode & 0777;
  if (!trusted_owner(owner, policy)) {
    return fail_library(LibraryCode::kUntrusted, std::string(call), std::string(object),
                        fmt::format("owned by {} with mode {:04o}, not by this user ({}); it was not "
                                    "used: remove it, or trust that owner explicitly",
                                    describe_owner(owner.uid), mode, describe_owner(::geteuid())));
  }
  if ((mode & ~(allowed_mode & 0777)) != 0) {
    return fail_library(LibraryCode::kUntrusted, std::string(call), std::string(object),
                        fmt::format("mode {:04o} is wider than the {:04o} asked for (owned by {}); it "
                                    "was not used: remove it, or ask for the wider mode",
                                    mode, allowed_mode & 0777, describe_owner(owner.uid)));
  }
  return {};
}

Result<void> check_fd_owner(int fd, mode_t allowed_mode, const TrustPolicy& policy, std::string_view call,
                            std::string_view object) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", std::string(object));
  return check_owner(ObjectOwner{st.st_uid, st.st_gid, st.st_mode}, allowed_mode, policy, call, object);
}

}  // namespace ipckit
