// Clang's thread-safety annotations (Abseil's names), so that lock discipline is in the types:
// a member GUARDED_BY(mu_) may be touched only with mu_ held, a function that REQUIRES(mu_)
// only be called with it held, and clang's -Wthread-safety (the fuzz/clang build) says where
// it is not. Other compilers see nothing.
#pragma once

#if defined(__clang__)
#define LG_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LG_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) LG_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY LG_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) LG_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) LG_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) LG_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) LG_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) LG_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LG_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) LG_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) LG_THREAD_ANNOTATION(assert_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS LG_THREAD_ANNOTATION(no_thread_safety_analysis)
