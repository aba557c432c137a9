// https webhooks against a TLS receiver on 127.0.0.1 with a certificate made for the test.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "notify/notifier.h"

namespace lastgood {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct SelfSigned {
  std::string cert_pem, key_pem;
};

// A self-signed P-256 certificate for IP 127.0.0.1, valid for an hour.
SelfSigned MakeCertificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  auto pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
  };
  SelfSigned s;
  s.cert_pem = pem([&](BIO* b) { PEM_write_bio_X509(b, x); });
  s.key_pem =
      pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(x);
  EVP_PKEY_free(key);
  return s;
}

// Answers 200 to each request that completes a TLS handshake; counts them.
class TlsReceiver {
 public:
  explicit TlsReceiver(const SelfSigned& cert) : acceptor_(ioc_) {
    ctx_.use_certificate_chain(asio::buffer(cert.cert_pem));
    ctx_.use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem);
    tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsReceiver() {
    stop_ = true;
    thread_.join();
  }
  std::string Url() const {
    return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }
  std::vector<std::string> Bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{acceptor_.native_handle(), POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      boost::system::error_code ec;
      tcp::socket socket = acceptor_.accept(ec);
      if (ec) continue;
      asio::ssl::stream<tcp::socket> stream(std::move(socket), ctx_);
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) continue;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(stream, buffer, req, ec);
      if (ec) continue;
      {
        std::lock_guard lock(mu_);
        bodies_.push_back(req.body());
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.prepare_payload();
      http::write(stream, res, ec);
      stream.shutdown(ec);
    }
  }

  asio::io_context ioc_;
  asio::ssl::context ctx_{asio::ssl::context::tls_server};
  tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> bodies_;  // guarded by mu_
};

DeploymentEvent Failed() {
  DeploymentEvent e;
  e.event = "failed";
  e.app = "web";
  e.version = 3;
  return e;
}

NotifierStats WaitUntilSettled(const Notifier& n) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (n.Stats().pending > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return n.Stats();
}

class NotifierTls : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = MakeCertificate();
    std::string tmpl = ::testing::TempDir() + "/lastgood-tls-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    std::ofstream(dir_ + "/ca.pem") << cert_.cert_pem;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  NotifierOptions Options(bool trust) {
    NotifierOptions o;
    o.firstBackoff = std::chrono::milliseconds(20);
    o.maxAttempts = 2;
    if (trust) o.caFile = dir_ + "/ca.pem";
    return o;
  }

  SelfSigned cert_;
  std::string dir_;
};

TEST_F(NotifierTls, DeliversOverHttpsToAReceiverWhoseCertificateIsTrusted) {
  TlsReceiver receiver(cert_);
  Notifier notifier(Options(true));
  notifier.Send({Webhook{receiver.Url(), {}, ""}}, Failed());
  NotifierStats s = WaitUntilSettled(notifier);
  EXPECT_EQ(s.delivered, 1u);
  ASSERT_EQ(receiver.Bodies().size(), 1u);
  EXPECT_NE(receiver.Bodies()[0].find("\"event\":\"failed\""), std::string::npos);
}

TEST_F(NotifierTls, SendsNothingToAReceiverWhoseCertificateIsNotTrusted) {
  TlsReceiver receiver(cert_);
  Notifier notifier(Options(false));
  notifier.Send({Webhook{receiver.Url(), {}, ""}}, Failed());
  NotifierStats s = WaitUntilSettled(notifier);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_TRUE(receiver.Bodies().empty());
}

}  // namespace
}  // namespace lastgood
