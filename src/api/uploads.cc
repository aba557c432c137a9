// Artifacts sent by a remote `apply` (issue 15): GET /v1/artifacts/{digest} asks whether the
// controller has them (the CLI then sends nothing), PUT /v1/artifacts/{digest} sends them.
// The PUT's body is taken as it arrives (Api::BeginUpload, wired by api/server.cc), written
// to the home and hashed on the way (artifacts/upload.h): never held whole in memory, stored
// only when it hashes to the digest it was sent as, refused past `serve --max-upload-size`.
// Both need role deployer, as apply does. The audit has each upload's digest, size and
// outcome, never its content.
#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "api/json.h"
#include "api/verbs.h"
#include "artifacts/upload.h"
#include "base/clock.h"

namespace lastgood {
namespace {

using nlohmann::json;

constexpr std::string_view kArtifactsPath = "/v1/artifacts/";

// "2 GiB", "512 MiB", "1000 bytes": a limit as people read it.
std::string Bytes(uint64_t n) {
  if (n >= (1ULL << 30) && n % (1ULL << 30) == 0) return std::to_string(n >> 30) + " GiB";
  if (n >= (1ULL << 20) && n % (1ULL << 20) == 0) return std::to_string(n >> 20) + " MiB";
  return std::to_string(n) + " bytes";
}

ApiResponse TooLarge(uint64_t limit) {
  Error e =
      Error::InvalidInput("the artifact is larger than this controller takes: " + Bytes(limit) +
                              ", the limit (serve --max-upload-size)",
                          "run.artifact");
  return {413, DumpJson(ErrorJson(e))};
}

// What the controller answers of a digest it is asked about or sent.
json ArtifactJson(const std::string& digest, bool stored, uint64_t max_bytes) {
  return {{"digest", digest}, {"stored", stored}, {"maxBytes", max_bytes}};
}

class UploadToStore : public ApiUpload {
 public:
  using AuditFn = std::function<void(int status, const std::string& message)>;
  UploadToStore(std::unique_ptr<ArtifactUpload> upload, uint64_t limit, AuditFn audit)
      : upload_(std::move(upload)), limit_(limit), audit_(std::move(audit)) {}

  uint64_t limit() const override { return limit_; }

  bool Write(std::string_view bytes) override {
    written_ = upload_->Write(bytes);
    return written_.ok();
  }

  ApiResponse Finish(End end) override {
    ApiResponse res;
    switch (end) {
      case End::kComplete: {
        auto receipt = upload_->Commit();
        if (!receipt.ok()) {
          res = ErrorResponse(receipt.error());
          break;
        }
        res = {200, DumpJson(json{{"digest", receipt->digest},
                                  {"bytes", receipt->bytes},
                                  {"stored", true},
                                  {"new", receipt->stored}})};
        audit_(200, "received " + std::to_string(receipt->bytes) + " bytes of " + receipt->digest +
                        (receipt->stored ? "" : " (stored already)"));
        return res;
      }
      case End::kTooLarge:
        res = TooLarge(limit_);
        break;
      case End::kStopped:
        res =
            ErrorResponse(written_.ok() ? Error::Internal("the upload stopped") : written_.error());
        break;
      case End::kBroken:
        audit_(400, "the upload was cut off after " + std::to_string(upload_->received()) +
                        " bytes; nothing stored");
        return {};
    }
    json j = json::parse(res.body, nullptr, false);
    std::string message = j.is_object() && j["error"].is_object()
                              ? j["error"].value("message", std::string())
                              : std::string();
    audit_(res.status, message);
    return res;
  }

 private:
  std::unique_ptr<ArtifactUpload> upload_;
  const uint64_t limit_;
  AuditFn audit_;
  Status written_ = Status::Ok();
};

// The digest of /v1/artifacts/{digest}, and whether ?executable=true was asked.
std::string DigestOfTarget(const std::string& target, bool* executable) {
  std::string path = target.substr(0, target.find('?'));
  std::string query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?'));
  *executable = query.find("executable=true") != std::string::npos;
  return path.substr(kArtifactsPath.size());
}

}  // namespace

bool IsArtifactUpload(const ApiRequest& header) {
  return header.method == "PUT" && header.target.rfind(kArtifactsPath, 0) == 0;
}

ApiResponse ArtifactStatus(const RouteCall& call) {
  const std::string& digest = call.path.at("digest");
  std::string hex;
  if (!ParseDigest(digest, &hex)) {
    return ErrorResponse(Error::InvalidInput(
        "'" + digest + "' is not a digest: give sha256:<64 hex digits>", "digest"));
  }
  if (call.options.uploads == nullptr)
    return ErrorResponse(Error::Unavailable("this controller takes no uploads"));
  // Asking about an upload starts its grace period again: an apply is about to use it.
  call.options.uploads->Touch(digest);
  bool stored = call.options.uploads->Has(digest);
  json j = ArtifactJson(digest, stored, call.options.maxUploadBytes);
  // 200 either way: "not stored" is an answer (with the limit a sender must keep to).
  return {200, DumpJson(j)};
}

ApiUploadStart Api::BeginUpload(const ApiRequest& in) {
  ApiRequest req = in;
  req.bearer.clear();
  const int64_t now = Clock::Real()->NowMillis();
  AuditEntry entry = AuditEntryFor(req, now);
  if (auto refused = Authenticate(in, &req, &entry, now)) return {nullptr, *refused};
  req.actor = entry.actor = req.principal.name;
  if (auto forbidden = Forbidden(req, auth::Role::kDeployer, entry)) return {nullptr, *forbidden};
  auto refuse = [&](ApiResponse res) {
    json j = json::parse(res.body, nullptr, false);
    Audit(entry, res.status,
          j.is_object() && j["error"].is_object() ? j["error"].value("message", std::string())
                                                  : std::string());
    return ApiUploadStart{nullptr, std::move(res)};
  };
  if (options_.uploads == nullptr)
    return refuse(ErrorResponse(Error::Unavailable("this controller takes no uploads")));
  bool executable = false;
  std::string digest = DigestOfTarget(req.target, &executable);
  auto upload = options_.uploads->Begin(digest, executable, options_.maxUploadBytes);
  if (!upload.ok()) return refuse(ErrorResponse(upload.error()));
  return {std::make_unique<UploadToStore>(std::move(*upload), options_.maxUploadBytes,
                                          [this, entry](int status, const std::string& message) {
                                            Audit(entry, status, message);
                                          }),
          {}};
}

}  // namespace lastgood
