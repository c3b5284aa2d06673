// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 120
// The nats: endpoint through `ipckit send` / `ipckit recv`, against real nats-server processes
// (tests/support/nats_server.hpp): the options behave as for every scheme, queue groups share a
// stream, and the failures a user meets (no server, wrong credentials, a message above max_payload, a
// password in the URL) are one clear line each.
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cli_harness.hpp"
#include "ipckit/endpoint/nats_options.hpp"
#include "support/nats_server.hpp"

namespace ipckit::test {
namespace {

#define IPCKIT_REQUIRE_NATS()                                                      \
  do {                                                                             \
    if (!nats_built_in()) GTEST_SKIP() << "this ipckit is built without libnats"; \
  } while (false)

#define IPCKIT_START_SERVER(name, ...)                \
  NatsServer name{__VA_ARGS__};                       \
  ASSERT_TRUE(name.ok()) << name.error()

std::string numbered_lines(int n, const std::string& prefix = "line ") {
  std::string s;
  for (int i = 1; i <= n; ++i) s += prefix + std::to_string(i) + "\n";
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A test PKI made with the openssl command in `dir`: a CA (ca.pem), a server certificate for
// 127.0.0.1 signed by it (server.pem, server.key), and a second CA that signed nothing (other.pem).
// Empty on success, else what openssl said.
std::string make_test_pki(const TempDir& dir) {
  const std::string d = dir.path();
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
  const std::string script =
      "set -e; cd '" + d + "'; "
      "openssl req -x509" + ec + "-keyout ca.key -out ca.pem -days 2 -subj /CN=ipckit-test-ca; "
      "openssl req -x509" + ec + "-keyout other.key -out other.pem -days 2 -subj /CN=ipckit-other-ca; "
      "openssl req" + ec + "-keyout server.key -out server.csr -subj /CN=127.0.0.1; "
      "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf; "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
      "-extfile ext.cnf";
  const std::string log = dir.file("openssl.log");
  const int rc = std::system(("(" + script + ") > '" + log + "' 2>&1").c_str());
  if (rc == 0) return {};
  std::ifstream f(log);
  std::ostringstream text;
  text << f.rdbuf();
  return "openssl failed (scripts/install-deps installs it): " + text.str();
}

// A receiver that is ready (subscribed: --ready-fd), then the sender; both exit 0, output exact.
TEST(NatsEndpoint, SendRecvLinesThenHexWithCount) {
  IPCKIT_REQUIRE_NATS();
  IPCKIT_START_SERVER(srv);
  const std::string url = srv.url("t.lines");
  const std::string input = numbered_lines(500);
  CliProcess rx(ipckit_args({"recv", url, "--lines"}, true), "", true);
  ASSERT_TRUE(rx.wait_ready());
  const CliRun tx = run_ipckit({"send", url, "--lines"}, input);
  ASSERT_TRUE(tx.result.ok()) << tx.result.describe() << ": " << tx.err;
  const CliRun r = rx.finish();
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, input);

  // --hex both ways (bytes 00 and ff, an empty message) and --count stopping the receiver early.
  CliProcess hex(ipckit_args({"recv", url, "--hex", "--count", "3"}, true), "", true);
  ASSERT_TRUE(hex.wait_ready());
  const CliRun htx = run_ipckit({"send", url, "--hex"}, "00ff\n\n616263\n7a7a\n");
  ASSERT_TRUE(htx.result.ok()) << htx.err;
  const CliRun h = hex.finish();
  ASSERT_TRUE(h.result.ok()) << h.result.describe() << ": " << h.err;
  EXPECT_EQ(h.out, "00ff\n\n616263\n");
}

TEST(NatsEndpoint, RawMessagesAndWildcardReceiver) {
  IPCKIT_REQUIRE_NATS();
  IPCKIT_START_SERVER(srv);
  // --raw: plain NATS messages, no headers and no end: the receiver stops at --count.
  CliProcess rx(ipckit_args({"recv", srv.url("ticks.>"), "--raw", "--count", "2", "--hex"}, true), "", true);
  ASSERT_TRUE(rx.wait_ready());
  const CliRun tx = run_ipckit({"send", srv.url("ticks.eu.x"), "--raw", "--hex"}, "61\n62\n");
  ASSERT_TRUE(tx.result.ok()) << tx.err;
  const CliRun r = rx.finish();
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, "61\n62\n");
  // A sender cannot publish to a wildcard.
  const CliRun w = run_ipckit({"send", srv.url("ticks.*")}, "x");
  EXPECT_TRUE(w.result.exited && w.result.code == 1) << w.result.describe();
  EXPECT_NE(w.err.find("wildcard subject \"ticks.*\""), std::string::npos) << w.err;
}

// Two members of one queue group: every message goes to exactly one, both end on the sender's end
// (the control subject), and the union is the whole stream.
TEST(NatsEndpoint, QueueGroupDeliversEachMessageOnce) {
  IPCKIT_REQUIRE_NATS();
  IPCKIT_START_SERVER(srv);
  const std::string url = srv.url("jobs") + "?queue=workers";
  CliProcess a(ipckit_args({"recv", url, "--lines"}, true), "", true);
  CliProcess b(ipckit_args({"recv", url, "--lines"}, true), "", true);
  ASSERT_TRUE(a.wait_ready());
  ASSERT_TRUE(b.wait_ready());
  const int n = 2000;
  const CliRun tx = run_ipckit({"send", srv.url("jobs"), "--lines"}, numbered_lines(n, "job "));
  ASSERT_TRUE(tx.result.ok()) << tx.err;
  const CliRun ra = a.finish();
  const CliRun rb = b.finish();
  ASSERT_TRUE(ra.result.ok()) << ra.result.describe() << ": " << ra.err;
  ASSERT_TRUE(rb.result.ok()) << rb.result.describe() << ": " << rb.err;
  const auto la = lines_of(ra.out);
  const auto lb = lines_of(rb.out);
  EXPECT_GT(la.size(), 0U) << "the group did not share the stream";
  EXPECT_GT(lb.size(), 0U) << "the group did not share the stream";
  std::multiset<std::string> all(la.begin(), la.end());
  all.insert(lb.begin(), lb.end());
  ASSERT_EQ(all.size(), static_cast<std::size_t>(n));
  for (int i = 1; i <= n; ++i) EXPECT_EQ(all.count("job " + std::to_string(i)), 1U) << i;
  // A sender's URL has no business with ?queue=.
  const CliRun q = run_ipckit({"send", url}, "x");
  EXPECT_TRUE(q.result.exited && q.result.code == 1);
  EXPECT_NE(q.err.find("?queue= is for receivers"), std::string::npos) << q.err;
}

// Nobody listens: a bounded retry (the --timeout), then one line naming the server.
TEST(NatsEndpoint, UnreachableServerFailsWithinTheTimeout) {
  IPCKIT_REQUIRE_NATS();
  const std::uint16_t port = free_loopback_port(SOCK_STREAM);
  const std::string url = "nats:127.0.0.1:" + std::to_string(port) + "/t";
  const auto start = Clock::now();
  const CliRun r = run_ipckit({"send", url, "--timeout", "300ms"}, "x");
  const auto took = Clock::now() - start;
  EXPECT_TRUE(r.result.exited && r.result.code == 1) << r.result.describe();
  EXPECT_NE(r.err.find("ETIMEDOUT: no NATS server reachable at 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--timeout"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(r.err).size(), 1U) << r.err;
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::seconds(10));  // generous: 300 ms of retries, 1 ms..50 ms apart
  const CliRun rr = run_ipckit({"recv", url, "--timeout", "300ms"});
  EXPECT_TRUE(rr.result.exited && rr.result.code == 1);
  EXPECT_NE(rr.err.find("open_receiver"), std::string::npos) << rr.err;
}

// A server started with a token: none or a wrong one is refused at once (no retrying), naming the
// variables to set and never the token; the right one (from the environment) works.
TEST(NatsEndpoint, AuthFailureIsClearAndTheTokenNeverPrinted) {
  IPCKIT_REQUIRE_NATS();
  const std::string token = "tok" + unique_name().substr(1, 8);
  IPCKIT_START_SERVER(srv, std::vector<std::string>{"--auth", token});
  const std::string url = srv.url("secret");
  const CliRun none = run_ipckit({"recv", url, "--timeout", "10s"});
  EXPECT_TRUE(none.result.exited && none.result.code == 1) << none.result.describe();
  EXPECT_NE(none.err.find("EACCES"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("IPCKIT_NATS_TOKEN"), std::string::npos) << none.err;

  ::setenv("IPCKIT_NATS_TOKEN", "wrong-token-value", 1);
  const CliRun wrong = run_ipckit({"recv", url, "--timeout", "10s", "-v"});
  EXPECT_TRUE(wrong.result.exited && wrong.result.code == 1);
  EXPECT_NE(wrong.err.find("EACCES"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("wrong-token-value"), std::string::npos) << "the token is printed: " << wrong.err;

  ::setenv("IPCKIT_NATS_TOKEN", token.c_str(), 1);
  CliProcess rx(ipckit_args({"recv", url, "--lines", "-v"}, true), "", true);
  ASSERT_TRUE(rx.wait_ready());
  const CliRun tx = run_ipckit({"send", url, "--lines", "-v"}, "one\ntwo\n");
  ::unsetenv("IPCKIT_NATS_TOKEN");
  ASSERT_TRUE(tx.result.ok()) << tx.err;
  const CliRun r = rx.finish();
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, "one\ntwo\n");
  EXPECT_EQ(r.err.find(token), std::string::npos) << "the token is printed: " << r.err;
  EXPECT_EQ(tx.err.find(token), std::string::npos) << "the token is printed: " << tx.err;
}

TEST(NatsEndpoint, PasswordInUrlIsRefusedAndNotEchoed) {
  IPCKIT_REQUIRE_NATS();
  const CliRun r = run_ipckit({"send", "nats:alice:hunter2@127.0.0.1:4222/t"}, "x");
  EXPECT_TRUE(r.result.exited && r.result.code == 2) << r.result.describe();
  EXPECT_NE(r.err.find("credentials in a URL are refused"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  const CliRun b = run_ipckit({"bridge", "chan:/x", "nats:tok@127.0.0.1:4222/t"});
  EXPECT_TRUE(b.result.exited && b.result.code == 2) << b.result.describe();
  EXPECT_EQ(b.err.find("tok@"), std::string::npos) << b.err;
}

// A message above the server's max_payload (4 KiB here) is refused naming the limit and the
// server's setting; below it (less the session headers' reserve) it goes.
TEST(NatsEndpoint, OversizeMessageNamesMaxPayload) {
  IPCKIT_REQUIRE_NATS();
  IPCKIT_START_SERVER(srv, std::vector<std::string>{}, "max_payload: 4096");
  const std::string url = srv.url("big");
  CliProcess rx(ipckit_args({"recv", url, "--count", "1", "--size", "8KiB"}, true), "", true);
  ASSERT_TRUE(rx.wait_ready());
  const CliRun big = run_ipckit({"send", url, "--size", "8KiB"}, std::string(5000, 'x'));
  EXPECT_TRUE(big.result.exited && big.result.code == 1) << big.result.describe();
  EXPECT_NE(big.err.find("message of 5000 bytes > the server's max_payload 4 KiB"), std::string::npos) << big.err;
  EXPECT_NE(big.err.find("nats-server configuration"), std::string::npos) << big.err;
  const CliRun ok = run_ipckit({"send", url, "--size", "8KiB"}, std::string(3900, 'y'));
  EXPECT_TRUE(ok.result.ok()) << ok.err;
  const CliRun r = rx.finish();
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, std::string(3900, 'y'));
}

// nats+tls: against a server with a certificate of the test's own CA: trusted through IPCKIT_NATS_CA
// the lines go through; every way of getting TLS wrong is one line naming the fix, never a hang.
TEST(NatsEndpoint, TlsWithTheServersCaAndEveryMismatchNamed) {
  IPCKIT_REQUIRE_NATS();
  TempDir pki;
  const std::string made = make_test_pki(pki);
  ASSERT_TRUE(made.empty()) << made;
  IPCKIT_START_SERVER(srv, std::vector<std::string>{"--tls", "--tlscert", pki.file("server.pem"), "--tlskey",
                                                    pki.file("server.key")});
  const std::string url = "nats+tls:" + srv.address() + "/secure";

  ::setenv("IPCKIT_NATS_CA", pki.file("ca.pem").c_str(), 1);
  CliProcess rx(ipckit_args({"recv", url, "--lines"}, true), "", true);
  const bool ready = rx.wait_ready();
  const CliRun tx = run_ipckit({"send", url, "--lines"}, "over\ntls\n");
  ::unsetenv("IPCKIT_NATS_CA");
  ASSERT_TRUE(ready) << rx.err_so_far();
  ASSERT_TRUE(tx.result.ok()) << tx.result.describe() << ": " << tx.err;
  const CliRun r = rx.finish();
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_EQ(r.out, "over\ntls\n");

  // A CA that did not sign the server's certificate, and none at all (the system's store does not
  // know the test CA): the certificate is refused and the message names IPCKIT_NATS_CA.
  ::setenv("IPCKIT_NATS_CA", pki.file("other.pem").c_str(), 1);
  const CliRun untrusted = run_ipckit({"recv", url, "--timeout", "10s"});
  ::unsetenv("IPCKIT_NATS_CA");
  EXPECT_TRUE(untrusted.result.exited && untrusted.result.code == 1) << untrusted.result.describe();
  EXPECT_NE(untrusted.err.find("IPCKIT_NATS_CA"), std::string::npos) << untrusted.err;
  const CliRun no_ca = run_ipckit({"recv", url, "--timeout", "10s"});
  EXPECT_TRUE(no_ca.result.exited && no_ca.result.code == 1) << no_ca.result.describe();
  EXPECT_NE(no_ca.err.find("IPCKIT_NATS_CA"), std::string::npos) << no_ca.err;

  // Plain nats: to the TLS server, and nats+tls: to a plain one: the message says which to write.
  const CliRun plain = run_ipckit({"recv", srv.url("secure"), "--timeout", "10s"});
  EXPECT_TRUE(plain.result.exited && plain.result.code == 1) << plain.result.describe();
  EXPECT_NE(plain.err.find("write nats+tls: instead of nats:"), std::string::npos) << plain.err;
  IPCKIT_START_SERVER(clear);
  const CliRun wanted = run_ipckit({"recv", "nats+tls:" + clear.address() + "/x", "--timeout", "10s"});
  EXPECT_TRUE(wanted.result.exited && wanted.result.code == 1) << wanted.result.describe();
  EXPECT_NE(wanted.err.find("write nats: instead of nats+tls:"), std::string::npos) << wanted.err;
  // TLS files with a nats: URL are a usage mistake caught before connecting.
  ::setenv("IPCKIT_NATS_CA", pki.file("ca.pem").c_str(), 1);
  const CliRun files = run_ipckit({"recv", clear.url("x"), "--timeout", "10s"});
  ::unsetenv("IPCKIT_NATS_CA");
  EXPECT_TRUE(files.result.exited && files.result.code != 0) << files.result.describe();
  EXPECT_NE(files.err.find("but the URL is nats:, not nats+tls:"), std::string::npos) << files.err;
}

TEST(NatsEndpoint, RecvTimeoutWhenNothingComes) {
  IPCKIT_REQUIRE_NATS();
  IPCKIT_START_SERVER(srv);
  const CliRun r = run_ipckit({"recv", srv.url("quiet"), "--timeout", "200ms"});
  EXPECT_TRUE(r.result.exited && r.result.code == 1) << r.result.describe();
  EXPECT_NE(r.err.find("timed out: no message for 200 ms"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ipckit::test
