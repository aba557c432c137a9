#include "ui/sessions.h"

#include <openssl/rand.h>

#include <algorithm>

namespace lastgood::ui {

Result<std::string> RandomHex32() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    return Error::Unavailable("the random number generator failed");
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

void Sessions::DropExpired(int64_t now) {
  std::erase_if(logins_, [now](const auto& kv) { return kv.second.expiresAt <= now; });
  std::erase_if(sessions_, [now](const auto& kv) { return kv.second.expiresAt <= now; });
}

Result<Login> Sessions::CreateLogin(const std::string& name, auth::Role role) {
  auto token = RandomHex32();
  if (!token.ok()) return token.error();
  const int64_t now = clock_->NowMillis();
  std::lock_guard lock(mu_);
  DropExpired(now);
  if (logins_.size() >= kMaxPendingLogins) {
    auto oldest = std::min_element(logins_.begin(), logins_.end(), [](auto& a, auto& b) {
      return a.second.expiresAt < b.second.expiresAt;
    });
    logins_.erase(oldest);
  }
  logins_[auth::TokenHash(*token)] = {name, role, now + kLoginTtlMillis};
  return Login{*token, now + kLoginTtlMillis};
}

Result<OpenedSession> Sessions::Redeem(const std::string& login_token) {
  auto cookie = RandomHex32();
  if (!cookie.ok()) return cookie.error();
  auto csrf = RandomHex32();
  if (!csrf.ok()) return csrf.error();
  const int64_t now = clock_->NowMillis();
  std::lock_guard lock(mu_);
  DropExpired(now);
  auto it = logins_.find(auth::TokenHash(login_token));
  if (it == logins_.end())
    return Error::NotFound("this login link is unknown, used or expired; run `lastgood dashboard`");
  Session s{it->second.name, it->second.role, *csrf, now + kSessionTtlMillis};
  logins_.erase(it);
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.expiresAt < b.second.expiresAt;
    });
    sessions_.erase(oldest);
  }
  sessions_[auth::TokenHash(*cookie)] = s;
  return OpenedSession{*cookie, s};
}

std::optional<Session> Sessions::Find(const std::string& cookie) {
  if (cookie.size() != 64) return std::nullopt;
  const int64_t now = clock_->NowMillis();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(auth::TokenHash(cookie));
  if (it == sessions_.end() || it->second.expiresAt <= now) return std::nullopt;
  return it->second;
}

void Sessions::End(const std::string& cookie) {
  std::lock_guard lock(mu_);
  sessions_.erase(auth::TokenHash(cookie));
}

bool Sessions::CsrfMatches(const Session& session, const std::string& header) {
  return !header.empty() && auth::ConstantTimeEquals(session.csrf, header);
}

}  // namespace lastgood::ui
