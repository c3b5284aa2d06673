// SPDX-License-Identifier: Apache-2.0
// The channel's one sleep/wake handshake, used by all three patterns (src/channel/wait.hpp:
// sleep_unless_ready, wake_one_announced, wake_all_announced; its users in spsc.cpp, mpmc.cpp,
// broadcast_publisher.cpp and broadcast_subscriber.cpp), checked with spin for lost wake-ups and
// deadlock. SPSC is -DPRODUCERS=1 -DCONSUMERS=1: with one sleeper per side, its
// wake_all_announced() is wake_one_announced().
//
// A sleeper adds itself to a count (`announced`) and never takes itself off; it reads the
// sequence word, fences (seq_cst), re-checks, and sleeps on the word only if there is still nothing
// to do. A waker publishes, fences, takes announcements off (one for MPMC, where one message feeds
// one sleeper; all for broadcast, where every subscriber wants every message), bumps the word and
// wakes that many. A sleeper that found work on its re-check leaves a stale announcement behind,
// which only costs a later waker a wake that finds nobody. As in spsc_wake.pml, Promela's single
// total order stands for what the seq_cst fences guarantee (Dekker: the model checks the
// protocol, the fences make the hardware run it as modelled).
//
// -DBROADCAST: SUBSCRIBERS each read every message, wake_all_announced; otherwise MPMC with
// PRODUCERS x CONSUMERS sharing one ring, wake_one_announced. The ring holds CAPACITY messages; a
// producer that finds it full sleeps the same way on the space word. Closing wakes every sleeper
// of the other side (wake_seq), as close() does. -DMUTANT_ANNOUNCE_BEFORE_SEQ announces the sleep
// before reading the sequence word, the order MpmcCore::wait() had until this model found it lost
// wake-ups; spin must reject it (scripts/model-check runs it). -DMUTANT_NO_RECHECK: consumers
// sleep without the re-check after announcing, also known-wrong.
#include "futex.pml"

#define MESSAGES 3  // in all, whichever producer sends them
#define CAPACITY 1

// Two sleepers on the side under test, one on the other, keep the state space to seconds: MPMC is
// checked twice (-DPRODUCERS=2 -DCONSUMERS=1, then -DPRODUCERS=1 -DCONSUMERS=2).
#ifdef BROADCAST
#define PRODUCERS 1
#define CONSUMERS 2
#endif
#ifndef PRODUCERS
#define PRODUCERS 2
#endif
#ifndef CONSUMERS
#define CONSUMERS 1
#endif
#define FIRST_PRODUCER CONSUMERS  // futex queue indexes: consumers first, then producers

byte claimed;                // messages producers have set out to send, of MESSAGES
byte published;              // messages published so far
byte taken;                  // MPMC: messages consumed, by all consumers
byte seen[CONSUMERS];        // broadcast: messages each subscriber has read
byte open_producers = PRODUCERS;
byte consumer_announced;
byte producer_announced;
byte data_seq;
byte space_seq;

// What a consumer may take now, and how full the ring is for producers.
#ifdef BROADCAST
#define HAS_DATA(i) (seen[i] < published)
#define SLOWEST (seen[0] < seen[1] -> seen[0] : seen[1])  // two subscribers
#define RING_FULL (published - SLOWEST == CAPACITY)
#else
#define HAS_DATA(i) (published > taken)
#define RING_FULL (published - taken == CAPACITY)
#endif

// The waker's side: take announcements off, bump the word, wake. `got` is the caller's scratch.
inline wake_one_announced(announced, seq, first, count, got) {
  atomic {
    if
    :: announced > 0 -> announced--; got = 1
    :: else -> got = 0
    fi
  }
  if
  :: got -> seq++; futex_wake_one(first, count)
  :: else -> skip
  fi
}

inline wake_all_announced(announced, seq, first, count, got) {
  atomic {
    got = (announced > 0);
    announced = 0
  }
  if
  :: got -> seq++; futex_wake_all(first, count)
  :: else -> skip
  fi
}

inline wake_consumers(got) {
#ifdef BROADCAST
  wake_all_announced(consumer_announced, data_seq, 0, CONSUMERS, got)
#else
  wake_one_announced(consumer_announced, data_seq, 0, CONSUMERS, got)
#endif
}

inline wake_producers(got) {
#ifdef BROADCAST
  wake_all_announced(producer_announced, space_seq, FIRST_PRODUCER, PRODUCERS, got)
#else
  wake_one_announced(producer_announced, space_seq, FIRST_PRODUCER, PRODUCERS, got)
#endif
}

proctype Producer(byte me) {
  byte seq;
  bit got;
  bit mine;  // this producer holds one of the MESSAGES to send
  do
  :: atomic { !mine && claimed < MESSAGES -> claimed++; mine = 1 }
  :: atomic { !mine && claimed == MESSAGES } -> break
  :: mine ->
     if
     :: atomic { !RING_FULL -> published++ } -> wake_consumers(got); mine = 0
     :: RING_FULL ->
#ifdef MUTANT_ANNOUNCE_BEFORE_SEQ
        producer_announced++;
        seq = space_seq;
#else
        seq = space_seq;
        producer_announced++;
#endif
        if
        :: !RING_FULL -> skip
        :: else -> futex_wait(me, space_seq, seq)
        fi
     fi
  od;
  // close(): the departure wakes every sleeping consumer (wake_seq), whatever was announced.
  open_producers--;
  data_seq++;
  futex_wake_all(0, CONSUMERS)
}

proctype Consumer(byte me) {
  byte seq;
  bit got;
  do
#ifdef BROADCAST
  :: atomic { HAS_DATA(me) -> seen[me]++ } -> wake_producers(got)
#else
  :: atomic { HAS_DATA(me) -> taken++ } -> wake_producers(got)
#endif
  :: atomic { !HAS_DATA(me) && open_producers == 0 } -> break
  :: !HAS_DATA(me) && open_producers > 0 ->
     seq = data_seq;
     consumer_announced++;
#ifdef MUTANT_NO_RECHECK
     futex_wait(me, data_seq, seq)
#else
     if
     :: HAS_DATA(me) || open_producers == 0 -> skip
     :: else -> futex_wait(me, data_seq, seq)
     fi
#endif
  od;
#ifdef BROADCAST
  assert(seen[me] == MESSAGES)
#endif
}

init {
  atomic {
    byte i = 0;
    do
    :: i < CONSUMERS -> run Consumer(i); i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < PRODUCERS -> run Producer(FIRST_PRODUCER + i); i++
    :: else -> break
    od
  }
}
