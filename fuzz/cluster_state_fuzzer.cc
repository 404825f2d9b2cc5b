// A cluster state from a peer's gossip, a join answer or the data dir: decoding validates it, and
// a state that passes must be safe for everything the node then does with one: build its ring,
// merge it, advance its ring (plan its joins and departures, serve the next owners once the
// transfers are done, adopt its zones: each step leaving a valid state) and round-trip it.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cluster_state.h"
#include "net/peer_codec.h"
#include "quiet_protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto state = md::net::decode_cluster_state(bytes);
  if (!state.is_ok()) return 0;
  auto again = md::net::decode_cluster_state(md::net::encode_cluster_state(*state));
  assert(again.is_ok() && *again == *state);

  md::core::ring_of(*state);
  for (const auto& name : state->members) md::core::current_address(*state, name);
  md::core::ClusterState merged;
  merged.cluster_id = state->cluster_id;
  assert(md::core::merge(merged, *state).is_ok());
  for (uint32_t n : {1u, 3u}) {
    auto admitted = *state;
    if (!md::core::advance_ring(admitted, n)) continue;
    assert(md::core::validate(admitted).is_ok());
    md::core::ring_of(admitted);
    md::core::next_ring_of(admitted);
    // Every transfer done: the next owners serve, in another valid state.
    for (auto t : admitted.transfers) {
      t.done = true;
      md::core::record_transfer(admitted, t);
    }
    if (md::core::advance_ring(admitted, n)) assert(md::core::validate(admitted).is_ok());
  }
  return 0;
}
