// CommitWatch: the engine's store as its deployments use it — a StoreWrapper that remembers
// the first commit that failed on each thread that watches, so that the executor learns of a
// failed write (Unavailable or Internal: the commit did not happen) wherever in a step it
// happened, and a step never goes on past it: a failed store commit is never ignored. Commits of
// threads that do not watch (the API's, the drainer's) pass through unremembered: they report their
// own failures.
//
// Thread-safe. Does not own the wrapped store.
#pragma once

#include <map>
#include <optional>
#include <thread>

#include "base/mutex.h"
#include "store/store_wrapper.h"

namespace lastgood {

class CommitWatch : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;

  // From now until Unwatch, the calling thread's failed commits are remembered; a failure
  // remembered before is forgotten.
  void Watch() EXCLUDES(mu_);
  void Unwatch() EXCLUDES(mu_);
  // The first commit of the calling thread that failed since Watch, if any.
  std::optional<Error> Failure() const EXCLUDES(mu_);

 protected:
  void AfterWrite(std::string_view method, const lastgood::Status& outcome) override;

 private:
  mutable Mutex mu_;
  std::map<std::thread::id, std::optional<Error>> watching_ GUARDED_BY(mu_);
};

}  // namespace lastgood
