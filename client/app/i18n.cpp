#include "client/app/i18n.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <system_error>

#include "platform/files.h"
#include "platform/log.h"

namespace outpost::app {

using Json = nlohmann::json;

// --- Catalog

Catalog Catalog::load(const std::string& path) {
  if (!files::exists(path)) throw std::runtime_error("no translation catalog " + path);
  const Json parsed = Json::parse(files::read_file(path), nullptr, false);
  if (parsed.is_discarded()) throw std::runtime_error(path + " is not valid JSON");
  if (!parsed.is_object()) throw std::runtime_error(path + " must hold one JSON object of \"key\": \"text\"");
  Catalog catalog;
  for (const auto& [key, text] : parsed.items()) {
    if (!text.is_string()) throw std::runtime_error(path + ": the text of \"" + key + "\" is not a string");
    catalog.texts_.emplace(key, text.get<std::string>());
  }
  return catalog;
}

const std::string* Catalog::find(std::string_view key) const {
  auto it = texts_.find(key);
  return it == texts_.end() ? nullptr : &it->second;
}

// --- Translator

void Translator::load(const std::string& i18n_directory, const std::string& language) {
  Catalog english = Catalog::load(i18n_directory + "/en.json");
  Catalog chosen;
  std::string loaded = "en";
  if (language != "en") {
    try {
      chosen = Catalog::load(i18n_directory + "/" + language + ".json");
      loaded = language;
    } catch (const std::exception& error) {
      log::warn(std::string("interface language ") + language + " unavailable, using English: " + error.what());
    }
  }
  english_ = std::move(english);
  chosen_ = std::move(chosen);
  language_ = loaded;
}

const char* Translator::text(std::string_view key) const {
  if (const std::string* text = chosen_.find(key)) return text->c_str();
  if (const std::string* text = english_.find(key)) return text->c_str();
  // Keys are string literals in the code: remembering them costs nothing, and a missing text is
  // reported once instead of every frame.
  static std::set<std::string, std::less<>> reported;
  auto it = reported.find(key);
  if (it == reported.end()) {
    log::warn("no interface text for \"" + std::string(key) + "\"");
    it = reported.emplace(key).first;
  }
  return it->c_str();
}

std::string Translator::format(std::string_view key, const TextParams& params) const {
  return fill_placeholders(text(key), params);
}

std::string Translator::count(std::string_view key, int64_t count, TextParams params) const {
  // French counts 0 and 1 as singular; English and Spanish only 1.
  const bool one = language_ == "fr" ? (count == 0 || count == 1) : count == 1;
  params.emplace_back("count", std::to_string(count));
  return format(std::string(key) + (one ? ".one" : ".other"), params);
}

Translator& translator() {
  static Translator instance;
  return instance;
}

// --- Helpers

std::string fill_placeholders(const std::string& pattern, const TextParams& params) {
  std::string out;
  out.reserve(pattern.size());
  for (size_t i = 0; i < pattern.size();) {
    if (pattern[i] == '{') {
      const size_t close = pattern.find('}', i);
      if (close != std::string::npos) {
        const std::string_view name(pattern.data() + i + 1, close - i - 1);
        auto param = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
        if (param != params.end()) {
          out += param->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += pattern[i++];
  }
  return out;
}

std::string system_language() {
  // POSIX precedence: LC_ALL overrides LC_MESSAGES, which overrides LANG.
  for (const char* variable : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* value = std::getenv(variable);
    if (!value || !*value) continue;
    std::string locale = value;
    locale = locale.substr(0, locale.find_first_of("_.@"));
    if (locale == "C" || locale == "POSIX" || locale.empty()) return "en";
    std::transform(locale.begin(), locale.end(), locale.begin(), [](unsigned char c) { return std::tolower(c); });
    return locale;
  }
  return "en";
}

std::vector<std::string> available_languages(const std::string& i18n_directory) {
  std::vector<std::string> languages;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(i18n_directory, error))
    if (entry.path().extension() == ".json") languages.push_back(entry.path().stem().string());
  std::sort(languages.begin(), languages.end());
  return languages;
}

std::string choose_language(const std::string& preference, const std::vector<std::string>& available) {
  auto has = [&](const std::string& language) {
    return std::find(available.begin(), available.end(), language) != available.end();
  };
  if (!preference.empty() && has(preference)) return preference;
  const std::string system = system_language();
  return has(system) ? system : "en";
}

}  // namespace outpost::app
