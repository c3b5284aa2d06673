// SPDX-License-Identifier: Apache-2.0
// The SPSC channel's sleep/wake handshake (src/channel/spsc.cpp: wait_for_data / wake_consumer,
// wait_for_space / wake_producer), checked with spin for lost wake-ups and deadlock.
//
// Each side that finds nothing to do: reads the sequence word, sets its sleeping flag, fences
// (seq_cst), re-checks, and sleeps on the sequence word only if there is still nothing. The other
// side publishes, fences, and if the flag is set bumps the sequence and wakes. Promela runs every
// statement in one total order, which is what the two seq_cst fences give the flag/index pair
// (Dekker): the model checks the protocol, the fences make the hardware run it as modelled.
//
// The producer sends MESSAGES through a ring of CAPACITY slots, then closes (which wakes a sleeping
// consumer). Spin must find no invalid end state (a side asleep forever) and the assertion that
// every message arrived must hold. With -DMUTANT_NO_RECHECK the consumer sleeps without its
// re-check, a known-wrong protocol that spin must reject (scripts/model-check runs both).
#include "futex.pml"

#define MESSAGES 3
#define CAPACITY 1
#define CONSUMER 0  // futex queue index of each side
#define PRODUCER 1

byte head;  // messages published
byte tail;  // messages consumed
bit closed;
bit consumer_sleeping;
bit producer_sleeping;
byte data_seq;
byte space_seq;

inline wake_consumer() {
  if
  :: consumer_sleeping -> data_seq++; futex_wake_all(CONSUMER, 1)
  :: else -> skip
  fi
}

inline wake_producer() {
  if
  :: producer_sleeping -> space_seq++; futex_wake_all(PRODUCER, 1)
  :: else -> skip
  fi
}

active proctype Producer() {
  byte seq;
  do
  :: head == MESSAGES -> break
  :: head < MESSAGES && head - tail < CAPACITY -> head++; wake_consumer()
  :: head < MESSAGES && head - tail == CAPACITY ->
     seq = space_seq;
     producer_sleeping = 1;
     if
     :: head - tail < CAPACITY -> skip
     :: else -> futex_wait(PRODUCER, space_seq, seq)
     fi;
     producer_sleeping = 0
  od;
  closed = 1;
  wake_consumer()
}

active proctype Consumer() {
  byte seq;
  do
  :: tail < head -> tail++; wake_producer()
  :: tail == head && closed -> break
  :: tail == head && !closed ->
     seq = data_seq;
     consumer_sleeping = 1;
#ifdef MUTANT_NO_RECHECK
     futex_wait(CONSUMER, data_seq, seq);
#else
     if
     :: tail < head || closed -> skip
     :: else -> futex_wait(CONSUMER, data_seq, seq)
     fi;
#endif
     consumer_sleeping = 0
  od;
  assert(tail == MESSAGES)
}
