// Randomness, hashing and signatures (libsodium): tokens, enrollment codes, content ids, the
// registry's signatures over what it publishes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct crypto_hash_sha256_state;  // libsodium's, kept out of this header

namespace outpost::crypto {

// Lowercase hex of `bytes` random bytes.
std::string random_hex(size_t bytes);
// SHA-256 of the input as lowercase hex.
std::string sha256_hex(std::string_view data);

// SHA-256 of data that arrives in pieces (a file read chunk by chunk).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  // Lowercase hex of everything given so far; the hasher is spent afterwards.
  std::string finish_hex();

 private:
  std::unique_ptr<crypto_hash_sha256_state> state_;
};
// A code a person can read aloud and type: groups of Crockford base32 (no I, L, O, U), e.g.
// "7KQ2-M9TD-XW4R". `groups` groups of four characters, 20 bits of entropy each.
std::string human_code(int groups);
// Normalises a typed code: upper case, dashes and spaces dropped, I/L read as 1 and O as 0.
std::string normalize_human_code(std::string_view typed);
// A random version-4 UUID in its canonical text form.
std::string uuid4();
// Compares in constant time, for secrets.
bool equal_secret(std::string_view a, std::string_view b);

// --- Ed25519 signatures (crypto_sign), keys and signatures as lowercase hex

struct SigningKeyPair {
  std::string public_hex;  // 32 bytes
  std::string secret_hex;  // 64 bytes: the seed and the public key, as libsodium keeps them
};
SigningKeyPair generate_signing_key();
// Throws std::invalid_argument when `secret_hex` is not a secret key.
std::string sign_hex(std::string_view message, const std::string& secret_hex);
// False for a wrong signature, and for a key or signature that is not even hex of the right size.
bool signature_valid(std::string_view message, const std::string& signature_hex, const std::string& public_hex);

}  // namespace outpost::crypto
