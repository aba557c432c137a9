#include "api/server.h"

#include <sys/stat.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "api/json.h"
#include "api/socket_group.h"
#include "api/verbs.h"
#include "base/build_id.h"
#include "process/peer.h"

namespace lastgood {

namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;

namespace {

// The token of "Bearer <token>" (scheme case-insensitive), or "".
std::string BearerToken(std::string_view header) {
  std::string value(header);
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return "";
  }
  std::string token = value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  return token;
}

http::Response ToHttp(const http::Request& req, ApiResponse out) {
  http::Response res{static_cast<bhttp::status>(out.status), req.version()};
  res.set(bhttp::field::content_type, out.contentType);
  if (out.status == 401) res.set(bhttp::field::www_authenticate, "Bearer");
  // Which binary answers, on every answer: a CLI of another build says so once (issue 15).
  res.set(kBuildIdHeader, BuildId());
  res.body() = std::move(out.body);
  return res;
}

ApiRequest FromHttp(const http::Request& req) {
  ApiRequest in;
  in.method = std::string(req.method_string());
  in.target = std::string(req.target());
  in.body = req.body();
  return in;
}

Result<ssl::context> TlsContext(const TcpListenOptions& options) {
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(options.tlsCert, ec);
  if (ec) {
    return Error::InvalidInput(
        "--tls-cert " + options.tlsCert + ": cannot load a PEM certificate (" + ec.message() + ")",
        "tls-cert");
  }
  ctx.use_private_key_file(options.tlsKey, ssl::context::pem, ec);
  if (ec) {
    return Error::InvalidInput(
        "--tls-key " + options.tlsKey + ": cannot load a PEM private key (" + ec.message() + ")",
        "tls-key");
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return Error::InvalidInput(
        "--tls-key " + options.tlsKey + " does not belong to the certificate in " + options.tlsCert,
        "tls-key");
  }
  return ctx;
}

// An API upload as the HTTP server's body sink.
class UploadSink : public http::BodySink {
 public:
  UploadSink(const http::Request& header, std::unique_ptr<ApiUpload> upload)
      : header_(header), upload_(std::move(upload)) {}
  uint64_t limit() const override { return upload_->limit(); }
  bool Write(const char* data, size_t size) override {
    return upload_->Write(std::string_view(data, size));
  }
  http::Answer Finish(End end) override {
    ApiUpload::End e = end == End::kComplete   ? ApiUpload::End::kComplete
                       : end == End::kTooLarge ? ApiUpload::End::kTooLarge
                       : end == End::kStopped  ? ApiUpload::End::kStopped
                                               : ApiUpload::End::kBroken;
    return http::Answer(ToHttp(header_, upload_->Finish(e)));
  }

 private:
  http::Request header_;
  std::unique_ptr<ApiUpload> upload_;
};

}  // namespace

http::BodyTaker ApiServer::Taker(
    std::function<void(const http::Peer&, const http::Request&, ApiRequest*)> identify) {
  if (!upload_) return {};
  return [this, identify](const http::Peer& peer,
                          const http::Request& header) -> std::optional<http::BodyTake> {
    ApiRequest in = FromHttp(header);
    identify(peer, header, &in);
    std::optional<ApiUploadStart> start;
    try {
      start = upload_(in);
    } catch (const std::exception& e) {
      http::BodyTake refused;
      refused.refusal = http::Answer(ToHttp(header, CrashResponse(in, e.what())));
      return refused;
    }
    if (!start) return std::nullopt;
    http::BodyTake take;
    if (start->upload) {
      take.sink = std::make_unique<UploadSink>(header, std::move(start->upload));
    } else {
      take.refusal = http::Answer(ToHttp(header, std::move(start->refusal)));
    }
    return take;
  };
}

std::optional<auth::Principal> UnixPeerPrincipal(const http::Peer& peer, uid_t owner,
                                                 std::optional<gid_t> group, std::string* why) {
  if (!peer.credentials) {
    *why = "the kernel did not say who it is";
    return std::nullopt;
  }
  if (peer.uid != owner && !(group && IsGroupMember(peer.uid, *group))) {
    *why = "uid " + std::to_string(peer.uid) +
           (group ? " neither owns the home nor is a member of the socket's group"
                  : " does not own the home");
    return std::nullopt;
  }
  if (PeerVerdict v = ClassifyPeer(peer.pid); v.deployed) {
    *why = "pid " + std::to_string(peer.pid) + " is deployed code: " + v.why;
    return std::nullopt;
  }
  return auth::LocalAdmin(peer.uid);
}

ApiServer::ApiServer(Api* api)
    : handle_([api](const ApiRequest& r) { return api->Handle(r); }),
      upload_([api](const ApiRequest& r) -> std::optional<ApiUploadStart> {
        if (!IsArtifactUpload(r)) return std::nullopt;
        return api->BeginUpload(r);
      }) {}

ApiServer::ApiServer(ApiHandler handler) : handle_(std::move(handler)) {}

ApiServer::~ApiServer() { Stop(); }

ApiResponse ApiServer::Answer(const ApiRequest& request) {
  const char* what = "unknown exception";
  try {
    return handle_(request);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  std::string path = request.target.substr(0, request.target.find('?'));
  if (path.size() > 256) path.resize(256);
  http::Log("answering " + request.method + " " + path + " from " + request.principal.from +
            " threw (" + what + "); answered 500");
  return CrashResponse(request, what);
}

Status ApiServer::Listen(const std::string& path, std::optional<gid_t> group) {
  http::Limits limits;
  limits.name = "the unix socket";
  limits.maxConnections = kMaxUnixConnections;
  limits.idle = std::chrono::seconds(5);  // an idle keep-alive client must not hold a thread
  limits.bodyBytes = kMaxRequestBody;
  // The home's owner: the one uid that is the local admin.
  struct stat home;
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (::stat(dir.empty() ? "." : dir.c_str(), &home) != 0) {
    return Error::Unavailable("cannot stat '" + dir + "': " + std::strerror(errno));
  }
  const uid_t owner = home.st_uid;
  auto identify = [owner, group](const http::Peer& peer, const http::Request& req, ApiRequest* in) {
    std::string why;
    if (auto admin = UnixPeerPrincipal(peer, owner, group, &why)) {
      in->principal = *admin;
    } else {
      in->principal.from = "unix (" + why + ")";
      in->needsToken = true;
      in->bearer = BearerToken(req[bhttp::field::authorization]);
    }
    in->actor = in->principal.name;
  };
  auto listening = server_.ListenUnix(
      path, limits,
      [this, identify](const http::Peer& peer, http::Request& req) {
        ApiRequest in = FromHttp(req);
        identify(peer, req, &in);
        return http::Answer(ToHttp(req, Answer(in)));
      },
      Taker(identify));
  if (!listening.ok() || !group) return listening;
  return ShareWithGroup(path, *group);
}

Status ApiServer::ListenTcp(const TcpListenOptions& options) {
  auto endpoint = http::ParseEndpoint(options.address, "listen");
  if (!endpoint.ok()) return endpoint.error();
  if (options.tlsCert.empty() != options.tlsKey.empty()) {
    return Error::InvalidInput(
        "TLS needs both --tls-cert and --tls-key (only " +
            std::string(options.tlsCert.empty() ? "--tls-key" : "--tls-cert") + " was given)",
        options.tlsCert.empty() ? "tls-cert" : "tls-key");
  }
  std::optional<ssl::context> tls;
  if (!options.tlsCert.empty()) {
    auto ctx = TlsContext(options);
    if (!ctx.ok()) return ctx.error();
    tls.emplace(std::move(*ctx));
  }
  http::Limits limits;
  limits.name = "--listen";
  limits.maxConnections = kMaxTcpConnections;
  limits.maxPerAddress = kMaxTcpConnectionsPerAddress;
  limits.firstHeader = std::chrono::seconds(kTcpFirstHeaderTimeoutSeconds);
  limits.idle = std::chrono::seconds(kTcpIdleTimeoutSeconds);
  limits.bodyBytes = kMaxRequestBody;
  auto identify = [](const http::Peer& peer, const http::Request& req, ApiRequest* in) {
    in->principal.from = peer.address;
    in->needsToken = true;
    in->bearer = BearerToken(req[bhttp::field::authorization]);
  };
  auto bound = server_.ListenTcp(
      *endpoint, limits,
      [this, identify](const http::Peer& peer, http::Request& req) {
        ApiRequest in = FromHttp(req);
        identify(peer, req, &in);
        return http::Answer(ToHttp(req, Answer(in)));
      },
      std::move(tls), Taker(identify));
  if (!bound.ok()) return bound.error();
  tcp_address_ = *bound;
  return Status::Ok();
}

void ApiServer::Run() {
  server_.Start();
  std::unique_lock lock(mu_);
  stopped_.wait(lock, [&] { return stopping_; });
}

void ApiServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  server_.Stop();
  stopped_.notify_all();
}

}  // namespace lastgood
