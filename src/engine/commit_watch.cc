#include "engine/commit_watch.h"

namespace lastgood {

void CommitWatch::Watch() {
  MutexLock lock(&mu_);
  watching_[std::this_thread::get_id()].reset();
}

void CommitWatch::Unwatch() {
  MutexLock lock(&mu_);
  watching_.erase(std::this_thread::get_id());
}

std::optional<Error> CommitWatch::Failure() const {
  MutexLock lock(&mu_);
  auto it = watching_.find(std::this_thread::get_id());
  return it == watching_.end() ? std::nullopt : it->second;
}

void CommitWatch::AfterWrite(std::string_view /*method*/, const lastgood::Status& outcome) {
  // Conflict and NotFound are the store's answers about the records (a name taken, a record
  // gone); Unavailable and Internal mean the commit itself did not happen.
  if (outcome.ok() || (outcome.error().code != ErrorCode::kUnavailable &&
                       outcome.error().code != ErrorCode::kInternal))
    return;
  MutexLock lock(&mu_);
  auto it = watching_.find(std::this_thread::get_id());
  if (it != watching_.end() && !it->second) it->second = outcome.error();
}

}  // namespace lastgood
