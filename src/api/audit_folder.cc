#include "api/audit_folder.h"

#include <cstdio>

namespace lastgood {

std::string AddressOf(const std::string& from) {
  size_t colon = from.rfind(':');
  if (colon == std::string::npos || colon == 0) return from;
  if (from.front() == '[') return from.substr(0, from.find(']') + 1);
  if (from.find(':') != colon) return from;  // a bare IPv6 address: no port to take off
  return from.substr(0, colon);
}

Status AuditFolder::Write(Fold& fold) {
  if (fold.count == fold.written) return Status::Ok();
  LG_RETURN_IF_ERROR(store_->SetAuditCount(fold.id, fold.count, fold.lastAt));
  fold.written = fold.count;
  fold.lastWrite = fold.lastAt;
  return Status::Ok();
}

Status AuditFolder::Refused(const AuditEntry& refused) {
  std::lock_guard lock(mu_);
  AuditEntry entry = refused;
  Key key{AddressOf(entry.from), entry.actor, entry.status};
  auto it = open_.find(key);
  bool open = it != open_.end() && entry.at - it->second.started < kFoldWindowMillis;
  if (!open) {
    if (entry.at / 1000 != second_) {
      second_ = entry.at / 1000;
      rows_in_second_ = 0;
    }
    if (++rows_in_second_ > kMaxNewRefusalRowsPerSecond) {
      entry.from = kManyAddresses;
      key = Key{kManyAddresses, entry.actor, entry.status};
      it = open_.find(key);
    }
  }
  if (it != open_.end() && entry.at - it->second.started < kFoldWindowMillis) {
    Fold& fold = it->second;
    ++fold.count;
    fold.lastAt = entry.at;
    if (entry.at - fold.lastWrite >= kFoldWriteIntervalMillis) return Write(fold);
    return Status::Ok();
  }
  if (it != open_.end()) {
    (void)Write(it->second);  // its last count; a failure was logged when it happened
    open_.erase(it);
  }
  if (open_.size() >= kMaxOpenFolds) {
    auto oldest = open_.begin();
    for (auto i = open_.begin(); i != open_.end(); ++i) {
      if (i->second.started < oldest->second.started) oldest = i;
    }
    (void)Write(oldest->second);
    open_.erase(oldest);
  }
  auto id = store_->AppendAudit(entry);
  if (!id.ok()) return id.error();
  open_[key] = Fold{*id, entry.at, 1, 1, entry.at, entry.at};
  return Status::Ok();
}

void AuditFolder::Flush(int64_t now) {
  std::lock_guard lock(mu_);
  for (auto it = open_.begin(); it != open_.end();) {
    if (auto s = Write(it->second); !s.ok()) {
      std::fprintf(stderr, "lastgood serve: cannot write an audit row's count: %s\n",
                   s.error().message.c_str());
    }
    if (now - it->second.started >= kFoldWindowMillis) {
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace lastgood
