// A throwaway certificate and a python3 HTTPS server for the TLS tests. The server is a child process that dies
// with the test (PR_SET_PDEATHSIG) and shares none of its stdio, so a crashed test can't leave meson waiting.
#pragma once

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace coalias::test {

// A self-signed certificate for 127.0.0.1 and consul.test, made once per test program.
struct certificate {
  std::string dir, cert, key;

  static const certificate& get() {
    static const certificate instance;
    return instance;
  }

  ~certificate() { std::system(("rm -rf '" + dir + "'").c_str()); }

 private:
  certificate() {
    char tmp[] = "/tmp/coalias-tls-XXXXXX";
    REQUIRE(::mkdtemp(tmp));
    dir = tmp;
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
                            " -addext subjectAltName=IP:127.0.0.1,DNS:consul.test -keyout '" +
                            key + "' -out '" + cert + "' >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
};

class tls_server {
 public:
  // With `client_ca`, the server requires a client certificate signed by it.
  explicit tls_server(const std::string& client_ca = {}) {
    const auto& c = certificate::get();
    const std::string script = c.dir + "/server.py";
    std::ofstream(script) << R"(import http.server, os, ssl, sys
cert, key, fd = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"tls ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
if len(sys.argv) > 4:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(sys.argv[4])
server.socket = ctx.wrap_socket(server.socket, server_side=True)
os.write(fd, b"%d\n" % server.server_address[1])
os.close(fd)
server.serve_forever()
)";
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::close(fds[0]);
      const std::string fd = std::to_string(fds[1]);
      if (client_ca.empty())
        ::execlp("python3", "python3", script.c_str(), c.cert.c_str(), c.key.c_str(), fd.c_str(), nullptr);
      else
        ::execlp("python3", "python3", script.c_str(), c.cert.c_str(), c.key.c_str(), fd.c_str(), client_ca.c_str(),
                 nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char ch;
    while (::read(fds[0], &ch, 1) == 1 && ch != '\n') line += ch;  // EOF if python failed to start
    ::close(fds[0]);
    REQUIRE_FALSE(line.empty());
    port_ = static_cast<unsigned short>(std::stoi(line));
  }

  ~tls_server() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

  tls_server(const tls_server&) = delete;
  tls_server& operator=(const tls_server&) = delete;

  unsigned short port() const { return port_; }
  std::string url(const std::string& host = "127.0.0.1") const { return "https://" + host + ":" + std::to_string(port_) + "/"; }

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

}  // namespace coalias::test
