// Theory of operation: a job that runs every interval on a thread of its
// own, for work that must not stall an I/O thread (sweeping a full BPF map
// takes tens of milliseconds of syscalls). The first run is one interval
// after construction. Destruction stops the thread: a wait in progress ends
// at once, a run in progress is finished first. The job must not throw.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

namespace xo {

class PeriodicThread {
public:
    /** PeriodicThread() - run @job every @interval until destroyed. */
    PeriodicThread(std::chrono::milliseconds interval, std::function<void()> job)
        : thread_([interval, job = std::move(job)](std::stop_token stop) {
              std::mutex mutex;
              std::condition_variable_any wake;
              std::unique_lock lock(mutex);
              for (;;) {
                  wake.wait_for(lock, stop, interval, [] { return false; });
                  if (stop.stop_requested())
                      return;
                  job();
              }
          })
    {
    }

private:
    std::jthread thread_; ///< its destructor asks the loop to stop and joins it
};

} // namespace xo
