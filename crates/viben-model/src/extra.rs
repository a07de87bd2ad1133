//! Reading and writing the unknown fields of a record ([`Extra`]) without losing what YAML says.
//!
//! serde's `#[serde(flatten)]` reads a record by first buffering every field in its own value
//! type, which holds neither a YAML tag (`weird: !custom {k: v}` failed the whole record) nor
//! an integer wider than 64 bits. So each record derives its known fields only (with
//! `#[serde(remote = "Self")]`) and [`deserialize`] routes its map: known keys go to the
//! derived code straight from the YAML deserializer (errors keep their line and column),
//! unknown ones are read here into [`Extra`] with [`Lossless`]. Writing still flattens, which
//! buffers nothing, through [`serialize`].
//!
//! A merge key (`<<: *defaults`, a map or a list of maps) is applied here too: its entries
//! fill the keys the record does not set itself, known or unknown.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_yaml::Value;
use serde_yaml::value::{Tag, TaggedValue};

use crate::Extra;

/// The tag an integer too wide for 64 bits is held under in an [`Extra`]: YAML's own integer
/// tag, in a form yaml_serde never produces when it reads (it drops `!!` tags), with the
/// digits as written. Written back as plain digits.
pub const BIG_INT_TAG: &str = "tag:yaml.org,2002:int";

/// A record type stored as YAML with unknown fields kept in an [`Extra`].
pub(crate) trait Record: Sized {
    /// The derived deserializer of the known fields (`#[serde(remote = "Self")]`).
    fn known<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
    /// Where the unknown fields go.
    fn extra_mut(&mut self) -> &mut Extra;
}

/// Implements `Serialize` and `Deserialize` for a record deriving them with
/// `#[serde(remote = "Self")]` and an `extra: Extra` field marked
/// `#[serde(flatten, serialize_with = "crate::extra::serialize", skip_deserializing)]`.
macro_rules! record {
    ($ty:ty) => {
        impl $crate::extra::Record for $ty {
            fn known<'de, D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                <$ty>::deserialize(deserializer)
            }

            fn extra_mut(&mut self) -> &mut $crate::Extra {
                &mut self.extra
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::extra::deserialize(deserializer)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                <$ty>::serialize(self, serializer)
            }
        }
    };
}
pub(crate) use record;

/// Reads a record: known fields through its derived code, the others into its [`Extra`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Record>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_map(RecordVisitor {
        fields: known_fields::<T>(),
        record: PhantomData,
    })
}

/// Writes an [`Extra`] (flattened into its record), integers too wide for 64 bits as plain
/// digits.
pub(crate) fn serialize<S: Serializer>(extra: &Extra, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(extra.iter().map(|(k, v)| (Emit(k), Emit(v))))
}

/// Reads a map of settings (a known field of type [`Extra`]) as [`Lossless`] values.
pub(crate) fn deserialize_extra<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Extra, D::Error> {
    match Lossless.deserialize(deserializer)? {
        Value::Mapping(map) => Ok(map),
        Value::Null => Ok(Extra::new()),
        _ => Err(de::Error::custom("expected a map of settings")),
    }
}

/// Writes a map of settings (a known field of type [`Extra`]).
pub(crate) fn serialize_extra<S: Serializer>(
    extra: &Extra,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serialize(extra, serializer)
}

/// The names of `T`'s known fields, as its derived code passes them to `deserialize_struct`.
fn known_fields<T: Record>() -> &'static [&'static str] {
    struct Probe;
    #[derive(Debug)]
    struct Fields(&'static [&'static str]);
    impl fmt::Display for Fields {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("fields")
        }
    }
    impl std::error::Error for Fields {}
    impl de::Error for Fields {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Fields(&[])
        }
    }
    impl<'de> Deserializer<'de> for Probe {
        type Error = Fields;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(&[]))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    match T::known(Probe) {
        Err(Fields(fields)) => fields,
        Ok(_) => &[],
    }
}

struct RecordVisitor<T> {
    fields: &'static [&'static str],
    record: PhantomData<T>,
}

impl<'de, T: Record> Visitor<'de> for RecordVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let mut routed = Routed {
            inner: map,
            fields: self.fields,
            extra: Extra::new(),
            seen: Vec::new(),
            merged: VecDeque::new(),
            inner_done: false,
            pending: None,
        };
        let mut record = T::known(de::value::MapAccessDeserializer::new(&mut routed))?;
        // The derived code reads until the map ends, so every entry has been routed.
        *record.extra_mut() = std::mem::take(&mut routed.extra);
        Ok(record)
    }
}

/// A record's map as its derived code sees it: only known keys; unknown ones are read into
/// `extra` on the way, and merged (`<<`) entries come last, where the map did not set them.
struct Routed<A> {
    inner: A,
    fields: &'static [&'static str],
    extra: Extra,
    seen: Vec<&'static str>,
    merged: VecDeque<(Value, Value)>,
    inner_done: bool,
    /// The value of a merged known key, handed to the next `next_value_seed`.
    pending: Option<Value>,
}

impl<A> Routed<A> {
    fn known(&self, key: &Value) -> Option<&'static str> {
        let name = key.as_str()?;
        self.fields.iter().copied().find(|field| *field == name)
    }

    fn merge<E: de::Error>(&mut self, value: Value) -> Result<(), E> {
        let maps = match value {
            Value::Mapping(map) => vec![map],
            Value::Sequence(list) => list
                .into_iter()
                .map(|item| match item {
                    Value::Mapping(map) => Ok(map),
                    _ => Err(E::custom(
                        "a merge key (<<) takes a map or a list of maps; use an alias to a map",
                    )),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(E::custom(
                    "a merge key (<<) takes a map or a list of maps; use an alias to a map",
                ));
            }
        };
        // The first map given wins over later ones.
        for map in maps {
            for (key, value) in map {
                if !self.merged.iter().any(|(k, _)| *k == key) {
                    self.merged.push_back((key, value));
                }
            }
        }
        Ok(())
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Routed<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while !self.inner_done {
            let Some(key) = self.inner.next_key_seed(Lossless)? else {
                self.inner_done = true;
                break;
            };
            if let Some(name) = self.known(&key) {
                self.seen.push(name);
                return seed.deserialize(name.into_deserializer()).map(Some);
            }
            check_key(&key)?;
            if key.as_str() == Some("<<") {
                let value = self.inner.next_value_seed(Lossless)?;
                self.merge(value)?;
                continue;
            }
            let value = self.inner.next_value_seed(Lossless)?;
            if self.extra.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key {} appears twice in one map; keep one of them",
                    key_text(&key)
                )));
            }
            self.extra.insert(key, value);
        }
        while let Some((key, value)) = self.merged.pop_front() {
            if let Some(name) = self.known(&key) {
                if self.seen.contains(&name) {
                    continue;
                }
                self.seen.push(name);
                self.pending = Some(value);
                return seed.deserialize(name.into_deserializer()).map(Some);
            }
            if !self.extra.contains_key(&key) {
                self.extra.insert(key, value);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value).map_err(de::Error::custom),
            None => self.inner.next_value_seed(seed),
        }
    }
}

/// Refuses a list, a map or a tagged value used as a key: yaml_serde reads them but cannot
/// write them, so a save of the record would fail later without saying where.
fn check_key<E: de::Error>(key: &Value) -> Result<(), E> {
    match key {
        Value::Mapping(_) | Value::Sequence(_) => Err(E::custom(
            "a list or map used as a key (`? [a, b] : c`) cannot be kept; use a text key",
        )),
        Value::Tagged(tagged) if tagged.tag != BIG_INT_TAG => Err(E::custom(
            "a tagged key (`!tag key: value`) cannot be kept; remove the tag from the key",
        )),
        _ => Ok(()),
    }
}

/// A key as a person wrote it, for a message.
fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_else(|_| "(a complex key)".to_owned()),
    }
}

/// Reads any YAML value into a [`Value`], keeping what `Value`'s own reader refuses or loses:
/// tags at any depth (`!custom {k: v}`), and integers wider than 64 bits (as [`BIG_INT_TAG`]
/// with their digits).
pub(crate) struct Lossless;

impl<'de> DeserializeSeed<'de> for Lossless {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Lossless {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(v) => Value::Number(v.into()),
            Err(_) => big_int(v.to_string()),
        })
    }

    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(match u64::try_from(v) {
            Ok(v) => Value::Number(v.into()),
            Err(_) => big_int(v.to_string()),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = seq.next_element_seed(Lossless)? {
            list.push(item);
        }
        Ok(Value::Sequence(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut mapping = Extra::new();
        while let Some(key) = map.next_key_seed(Lossless)? {
            check_key(&key)?;
            let value = map.next_value_seed(Lossless)?;
            if mapping.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key {} appears twice in one map; keep one of them",
                    key_text(&key)
                )));
            }
            mapping.insert(key, value);
        }
        Ok(Value::Mapping(mapping))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, variant): (String, _) = data.variant()?;
        let value = variant.newtype_variant_seed(Lossless)?;
        if tag.is_empty() {
            return Ok(value);
        }
        Ok(Value::Tagged(Box::new(TaggedValue {
            tag: Tag::new(tag),
            value,
        })))
    }
}

fn big_int(digits: String) -> Value {
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new(BIG_INT_TAG),
        value: Value::String(digits),
    }))
}

/// A [`Value`] as YAML should read it back: an integer held under [`BIG_INT_TAG`] as plain
/// digits, everything else as `Value` writes it.
struct Emit<'a>(&'a Value);

impl Serialize for Emit<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Sequence(list) => {
                let mut seq = serializer.serialize_seq(Some(list.len()))?;
                for item in list {
                    seq.serialize_element(&Emit(item))?;
                }
                seq.end()
            }
            Value::Mapping(map) => {
                serializer.collect_map(map.iter().map(|(k, v)| (Emit(k), Emit(v))))
            }
            Value::Tagged(tagged) => {
                if tagged.tag == BIG_INT_TAG
                    && let Value::String(digits) = &tagged.value
                {
                    if let Ok(v) = digits.parse::<u128>() {
                        return serializer.serialize_u128(v);
                    }
                    if let Ok(v) = digits.parse::<i128>() {
                        return serializer.serialize_i128(v);
                    }
                }
                // As `TaggedValue` writes itself: a one-entry map whose key is the tag.
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(&TagKey(&tagged.tag), &Emit(&tagged.value))?;
                map.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// A tag as the key of the one-entry map yaml_serde writes as a tag: `!` and the tag, in two
/// pieces, as `Tag`'s `Display` writes it. One of YAML's own tags (`tag:yaml.org,2002:binary`,
/// read from `!!binary`) is handed over as `!!binary`, which yaml_serde writes `!%21binary` and
/// viben-store's YAML module turns back into `!!binary`.
struct TagKey<'a>(&'a Tag);

impl Serialize for TagKey<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for TagKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = self.0.to_string();
        let name = tag.strip_prefix('!').unwrap_or(&tag);
        // yaml_serde tells a tag from a string by exactly two writes: `!`, then the name.
        f.write_str("!")?;
        match name.strip_prefix(YAML_TAG_PREFIX) {
            Some(name) => f.write_str(&format!("!!{name}")),
            None => f.write_str(name),
        }
    }
}

/// The prefix of YAML's own tags, which the secondary handle `!!` stands for.
const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";
