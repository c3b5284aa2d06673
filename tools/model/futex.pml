// SPDX-License-Identifier: Apache-2.0
// A futex, as the channel's wait protocols use it, for the Promela models beside this file.
//
// futex_wait(i, word, expected) queues sleeper i only if `word` still holds `expected` (checked and
// queued in one step, as the kernel does under its hash-bucket lock), then blocks until a wake takes
// it off the queue. There is no timeout: the real waits also wake at the liveness interval, which
// would hide a lost wake-up as a one-second delay; without it a lost wake-up is a sleeper that never
// ends, which spin reports as an invalid end state.
#define MAX_SLEEPERS 4

bit queued[MAX_SLEEPERS];
byte wake_k;  // scratch for futex_wake_all; only touched inside its atomic block

inline futex_wait(i, word, expected) {
  atomic {
    if
    :: word == expected -> queued[i] = 1
    :: else -> skip
    fi
  }
  queued[i] == 0  // blocks until woken
}

// Wakes every sleeper queued on the word (the models use one word per direction and keep the
// sleepers of each word in their own index range, so "every" means every sleeper of that range).
inline futex_wake_all(first, count) {
  atomic {
    wake_k = first;
    do
    :: wake_k < first + count -> queued[wake_k] = 0; wake_k++
    :: else -> break
    od;
    wake_k = 0
  }
}

// Wakes at most one queued sleeper of the range, any one (the kernel picks; spin tries each).
inline futex_wake_one(first, count) {
  atomic {
    if
    :: first + 0 < first + count && queued[first + 0] -> queued[first + 0] = 0
    :: first + 1 < first + count && queued[first + 1] -> queued[first + 1] = 0
    :: first + 2 < first + count && queued[first + 2] -> queued[first + 2] = 0
    :: else -> skip
    fi
  }
}
