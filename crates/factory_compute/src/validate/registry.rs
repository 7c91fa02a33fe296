//! Registered sensors per machine, looked up by (machine id, key bytes) with a precomputed hash.

use std::collections::HashMap;
use std::hash::BuildHasher;

use hashbrown::HashTable;

/// One sensor as registered by the gateway. `NaN` bounds mean "no bound".
#[derive(Clone, Debug, PartialEq)]
pub struct SensorSpec {
    pub machine_id: i32,
    pub sensor_id: i32,
    pub key: String,
    pub min_value: f64,
    pub max_value: f64,
}

/// What a reading needs from its sensor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SensorBounds {
    pub sensor_id: i32,
    pub min_value: f64,
    pub max_value: f64,
}

struct Slot {
    machine_id: i32,
    key: Box<[u8]>,
    bounds: SensorBounds,
}

/// Sensors by (machine, key) for the hot path and by sensor id for updates.
pub(crate) struct Registry {
    seed: u64,
    by_key: HashTable<Slot>,
    by_id: HashMap<i32, (i32, Box<[u8]>)>,
}

impl Registry {
    pub fn new() -> Registry {
        // A per-process random seed keeps device-chosen keys from aiming at one hash bucket.
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x5EED_u64);
        Registry {
            seed,
            by_key: HashTable::new(),
            by_id: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Hash of a sensor key on a machine; the same hash serves lookups and de-duplication.
    #[inline]
    pub fn hash_key(&self, machine_id: i32, key: &[u8]) -> u64 {
        hash_key(self.seed, machine_id, key)
    }

    #[inline]
    pub fn find(&self, hash: u64, machine_id: i32, key: &[u8]) -> Option<&SensorBounds> {
        self.by_key
            .find(hash, |slot| {
                slot.machine_id == machine_id && *slot.key == *key
            })
            .map(|slot| &slot.bounds)
    }

    /// Registers a sensor; an existing sensor with the same id is replaced, and so is any other
    /// sensor holding the same (machine, key).
    pub fn upsert(&mut self, spec: &SensorSpec) {
        self.remove(spec.sensor_id);
        let key: Box<[u8]> = spec.key.as_bytes().into();
        let hash = self.hash_key(spec.machine_id, &key);
        if let Ok(entry) = self.by_key.find_entry(hash, |slot| {
            slot.machine_id == spec.machine_id && slot.key == key
        }) {
            let (previous, _) = entry.remove();
            self.by_id.remove(&previous.bounds.sensor_id);
        }
        let bounds = SensorBounds {
            sensor_id: spec.sensor_id,
            min_value: spec.min_value,
            max_value: spec.max_value,
        };
        let seed = self.seed;
        self.by_key.insert_unique(
            hash,
            Slot {
                machine_id: spec.machine_id,
                key: key.clone(),
                bounds,
            },
            |slot| hash_key(seed, slot.machine_id, &slot.key),
        );
        self.by_id.insert(spec.sensor_id, (spec.machine_id, key));
    }

    /// Forgets a sensor; unknown ids are ignored.
    pub fn remove(&mut self, sensor_id: i32) {
        let Some((machine_id, key)) = self.by_id.remove(&sensor_id) else {
            return;
        };
        let hash = self.hash_key(machine_id, &key);
        if let Ok(entry) = self
            .by_key
            .find_entry(hash, |slot| slot.bounds.sensor_id == sensor_id)
        {
            entry.remove();
        }
    }
}

/// A seeded multiply-xor hash over 8-byte words with a murmur3 finaliser: fast on short keys.
#[inline]
fn hash_key(seed: u64, machine_id: i32, key: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut hash = (seed ^ u64::from(machine_id as u32)).wrapping_mul(K);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash ^ u64::from_le_bytes(word))
            .rotate_left(23)
            .wrapping_mul(K);
    }
    let tail = chunks.remainder();
    let mut word = [0u8; 8];
    word[..tail.len()].copy_from_slice(tail);
    hash = (hash ^ u64::from_le_bytes(word) ^ (key.len() as u64) << 56).wrapping_mul(K);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    hash ^ (hash >> 33)
}

#[cfg(test)]
mod tests {
    use super::{Registry, SensorSpec};

    fn spec(machine_id: i32, sensor_id: i32, key: &str) -> SensorSpec {
        SensorSpec {
            machine_id,
            sensor_id,
            key: key.into(),
            min_value: f64::NAN,
            max_value: f64::NAN,
        }
    }

    fn lookup(registry: &Registry, machine_id: i32, key: &str) -> Option<i32> {
        let hash = registry.hash_key(machine_id, key.as_bytes());
        registry
            .find(hash, machine_id, key.as_bytes())
            .map(|bounds| bounds.sensor_id)
    }

    #[test]
    fn upsert_with_the_same_id_moves_the_sensor() {
        let mut registry = Registry::new();
        registry.upsert(&spec(1, 10, "temp"));
        registry.upsert(&spec(2, 10, "pressure"));
        assert_eq!(lookup(&registry, 1, "temp"), None);
        assert_eq!(lookup(&registry, 2, "pressure"), Some(10));
        assert_eq!(registry.len(), 1);
    }

    #[test]
    fn upsert_of_a_taken_key_replaces_the_previous_sensor() {
        let mut registry = Registry::new();
        registry.upsert(&spec(1, 10, "temp"));
        registry.upsert(&spec(1, 11, "temp"));
        assert_eq!(lookup(&registry, 1, "temp"), Some(11));
        assert_eq!(registry.len(), 1);
        registry.remove(10);
        assert_eq!(lookup(&registry, 1, "temp"), Some(11));
        registry.remove(11);
        assert_eq!(lookup(&registry, 1, "temp"), None);
        assert_eq!(registry.len(), 0);
    }
}
