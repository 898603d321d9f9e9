// The library on a device: the catalog synced from an in-process registry that publishes the
// starter materials, accent-insensitive search, pin, unpin, evict, the quota, and the CLI.

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "client/cli.h"
#include "client/library.h"
#include "client/text_extraction.h"
#include "platform/files.h"
#include "registry/materials.h"
#include "support/transfer_data.h"
#include "support/in_process.h"
#include "support/temp_dir.h"

using namespace outpost;
using namespace outpost::test;
using client::DownloadState;
using client::Library;
using sync::Json;

namespace {

const std::string kAssets = OUTPOST_ASSETS_DIR "/materials/";

// A one-page PDF whose page shows `latin1_text` (Helvetica, WinAnsi encoding).
std::string minimal_pdf(const std::string& latin1_text) {
  const std::string content = "BT /F1 18 Tf 72 700 Td (" + latin1_text + ") Tj ET";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"};
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t offset : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", offset);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

// A registry publishing the starter materials and a few files of other types, and one device
// enrolled in it, synced.
struct LibraryWorld {
  TempDir dir{"outpost-library"};
  ManualClock clock{1'790'000'000'000};
  InProcessRegistry registry{clock, ":memory:", dir.file("registry.blobs")};
  registry::Materials materials{registry.registry, *registry.blobs, clock};
  std::string org = registry.registry.add_org("Trainers").id;
  std::map<std::string, std::string> ids;  // file name -> material id
  client::Home home{dir.file("home")};
  InProcessTransport transport{registry};

  LibraryWorld() {
    for (const char* name :
         {"ecosoc-consultative-status.en.md", "ecosoc-consultative-status.fr.md", "un-meeting-statement.en.md",
          "situation-report.en.md", "safe-data-collection.en.md", "safe-data-collection.es.md",
          "workshop-planning.en.md"}) {
      registry::MaterialSource source;
      source.file = kAssets + name;
      ids[name] = materials.add(source).id;
    }
    add("contingency.pdf", minimal_pdf("Plan de contingence: \xe9vacuation des familles riveraines"), "Flood plan", "fr",
        {"humanitarian-response"});
    add("checklist.html",
        "<html><head><style>.x{}</style><script>var hidden = 'invisible';</script></head>"
        "<body><h1>Distribution</h1><p>Registro de beneficiarios &amp; verificaci&oacute;n</p></body></html>",
        "Distribution checklist", "es", {"humanitarian-response"});
    add("photo.jpg", std::string(200'000, '\x7f'), "Workshop photo", "en", {"training"});
    home.enroll("in-process", registry.registry.invite(registry::Registry::cli_admin(), org, registry::Role::Field),
                "trainer laptop", transport);
    home.sync(transport);
  }

  void add(const std::string& name, const std::string& content, const std::string& title, const std::string& lang,
           std::vector<std::string> tags) {
    files::write_file_atomic(dir.file(name), content);
    registry::MaterialSource source;
    source.file = dir.file(name);
    source.title = title;
    source.lang = lang;
    source.tags = std::move(tags);
    source.partition = org;
    ids[name] = materials.add(source).id;
  }

  std::vector<std::string> found(Library& library, const std::string& query) {
    std::vector<std::string> names;
    for (const client::SearchHit& hit : library.search(query))
      for (const auto& [name, id] : ids)
        if (id == hit.material.id) names.push_back(name);
    return names;
  }
};

}  // namespace

// --- Text of files

TEST_CASE("library: the text of Markdown, HTML and PDF files, without markup") {
  const std::string markdown = client::markdown_to_text(
      "---\ntitle: Hidden\n---\n# Réunion\n\nUn **texte** avec [un lien](http://example.org) &amp; `code`.\n\n"
      "| a | b |\n|---|---|\n| cellule | deux |\n");
  CHECK(markdown.find("Hidden") == std::string::npos);
  CHECK(markdown.find("Réunion") != std::string::npos);
  CHECK(markdown.find("Un texte avec un lien & code.") != std::string::npos);
  CHECK(markdown.find("cellule") != std::string::npos);
  CHECK(markdown.find("**") == std::string::npos);
  CHECK(markdown.find("http") == std::string::npos);

  const std::string html = client::html_to_text(
      "<p>Caf&eacute; &#233;t&#xE9; <b>ici</b></p><script>alert('no')</script><style>p{}</style>fin");
  CHECK(html.find("Café été") != std::string::npos);
  CHECK(html.find("ici") != std::string::npos);
  CHECK(html.find("alert") == std::string::npos);
  CHECK(html.find("fin") != std::string::npos);

  TempDir dir("outpost-text");
  files::write_file_atomic(dir.file("plan.pdf"), minimal_pdf("Plan de contingence: \xe9vacuation"));
  CHECK(client::extract_text(dir.file("plan.pdf"), "application/pdf").find("évacuation") != std::string::npos);
  files::write_file_atomic(dir.file("broken.pdf"), "%PDF-1.4 not really");
  CHECK(client::extract_text(dir.file("broken.pdf"), "application/pdf").empty());
  CHECK(client::extract_text(dir.file("plan.pdf"), "image/png").empty());
}

// --- Catalog and search

TEST_CASE("library: the catalog holds every material with its language, tags, size and download state") {
  LibraryWorld world;
  Library library(world.home);
  const std::vector<client::Material> catalog = library.catalog();
  REQUIRE(catalog.size() == world.ids.size());
  const client::Material french = library.material(world.ids["ecosoc-consultative-status.fr.md"]);
  CHECK(french.info.lang == "fr");
  CHECK(french.info.tags == std::vector<std::string>{"advocacy", "human-rights", "sdgs"});
  CHECK(french.info.size == files::read_file(kAssets + "ecosoc-consultative-status.fr.md").size());
  CHECK(french.state == DownloadState::NotDownloaded);
  CHECK_FALSE(french.pinned);
  CHECK(french.stored_bytes == 0);
  CHECK_THROWS_WITH_AS(library.material("mat_nope"), doctest::Contains("no material mat_nope"), client::ClientError);
}

TEST_CASE("library: reading the catalog into the index stops when asked, and the index stays as it was") {
  LibraryWorld world;
  int asked = 0;
  CHECK_THROWS_AS(Library(world.home, [&] { return ++asked > 2; }), client::LibraryCancelled);
  CHECK(asked == 3);  // between materials, at the third
  Library library(world.home);  // nothing of the stopped reading was kept: read whole now
  CHECK(library.count("", "") == static_cast<int64_t>(library.catalog().size()));
  CHECK(library.count("", "") > 3);
}

TEST_CASE("library: the index lists the catalog a window at a time, by title, filtered by language and theme") {
  LibraryWorld world;
  Library library(world.home);
  const std::vector<client::Material> catalog = library.catalog();
  auto ids = [](const std::vector<client::Material>& materials) {
    std::vector<std::string> out;
    for (const client::Material& material : materials) out.push_back(material.id);
    return out;
  };
  // The same order as the catalog, a window at a time.
  const int64_t total = library.count("", "");
  REQUIRE(total == static_cast<int64_t>(catalog.size()));
  std::vector<client::Material> paged;
  for (int64_t first = 0; first < total; first += 3) {
    std::vector<client::Material> window = library.page("", "", first, 3);
    paged.insert(paged.end(), window.begin(), window.end());
  }
  CHECK(ids(paged) == ids(catalog));
  CHECK(library.page("", "", total, 3).empty());

  // Filtered: what the catalog holds of that language and theme, in the same order.
  std::vector<client::Material> french_advocacy;
  std::set<std::string> languages, themes;
  for (const client::Material& material : catalog) {
    languages.insert(material.info.lang);
    themes.insert(material.info.tags.begin(), material.info.tags.end());
    const auto& tags = material.info.tags;
    if (material.info.lang == "fr" && std::find(tags.begin(), tags.end(), "advocacy") != tags.end())
      french_advocacy.push_back(material);
  }
  REQUIRE_FALSE(french_advocacy.empty());
  CHECK(library.count("fr", "advocacy") == static_cast<int64_t>(french_advocacy.size()));
  CHECK(ids(library.page("fr", "advocacy", 0, 100)) == ids(french_advocacy));
  CHECK(library.count("xx", "") == 0);
  CHECK(library.count("", "no-such-theme") == 0);
  CHECK(library.facets().languages == std::vector<std::string>(languages.begin(), languages.end()));
  CHECK(library.facets().themes == std::vector<std::string>(themes.begin(), themes.end()));
}

TEST_CASE("library: an index written by an older version is read again from the records and files") {
  LibraryWorld world;
  const std::string id = world.ids["safe-data-collection.es.md"];
  {
    Library library(world.home);
    library.pin(id, world.transport, no_waiting());
  }
  // The first index: entries without what the list sorts and filters by, no version noted.
  db::Database& db = world.home.replica().database();
  db.exec("DROP TABLE library_entries; DELETE FROM library_meta");
  db.exec("CREATE TABLE library_entries(id INTEGER PRIMARY KEY, material TEXT NOT NULL UNIQUE, version TEXT NOT NULL, "
          "text_sha256 TEXT)");
  Library library(world.home);
  CHECK(library.count("", "") == static_cast<int64_t>(world.ids.size()));
  CHECK(library.material(id).pinned);  // the pins stay
  CHECK(world.found(library, "seudonimizacion") == std::vector<std::string>{"safe-data-collection.es.md"});
}

TEST_CASE("library: search finds French and Spanish materials whatever the accents, ranked, with snippets") {
  LibraryWorld world;
  Library library(world.home);
  // Titles, summaries and tags are searchable before any file is downloaded.
  CHECK(world.found(library, "recopilacion etica") == std::vector<std::string>{"safe-data-collection.es.md"});
  CHECK(world.found(library, "Recopilación ÉTICA") == std::vector<std::string>{"safe-data-collection.es.md"});
  CHECK(world.found(library, "comite charge des ONG") == std::vector<std::string>{"ecosoc-consultative-status.fr.md"});
  CHECK(world.found(library, "auprès") == std::vector<std::string>{"ecosoc-consultative-status.fr.md"});
  CHECK(world.found(library, "consultative status").front() == "ecosoc-consultative-status.en.md");
  CHECK(world.found(library, "human-rights").size() >= 5);
  CHECK(world.found(library, "reglement interieur").empty());  // only in the French file's text, not yet here

  // Once downloaded, the words of the files count too.
  for (const char* name : {"ecosoc-consultative-status.fr.md", "safe-data-collection.es.md", "contingency.pdf",
                           "checklist.html"})
    library.pin(world.ids[name], world.transport, no_waiting());
  CHECK(world.found(library, "reglement interieur") == std::vector<std::string>{"ecosoc-consultative-status.fr.md"});
  CHECK(world.found(library, "seudonimizacion") == std::vector<std::string>{"safe-data-collection.es.md"});
  CHECK(world.found(library, "evacuation riveraines") == std::vector<std::string>{"contingency.pdf"});
  CHECK(world.found(library, "verificacion beneficiarios") == std::vector<std::string>{"checklist.html"});
  CHECK(world.found(library, "invisible").empty());  // a script is not text

  const std::vector<client::SearchHit> hits = library.search("seudonimización");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].snippet.find("**seudonimización**") != std::string::npos);
  CHECK(hits[0].score < 0);
  // Words of FTS5's own syntax are only words.
  CHECK_NOTHROW(library.search("AND OR NOT \"( * ^ title:"));
  CHECK(library.search("   ").empty());
}

TEST_CASE("library: pin downloads and keeps a file, unpin lets it go, evict frees the space") {
  LibraryWorld world;
  Library library(world.home);
  const std::string id = world.ids["situation-report.en.md"];
  const std::string content = files::read_file(kAssets + "situation-report.en.md");
  CHECK_THROWS_WITH_AS(library.local_path(id), doctest::Contains(("outpost pin " + id).c_str()), client::ClientError);

  const sync::TransferReport report = library.pin(id, world.transport, no_waiting());
  CHECK(report.size == content.size());
  client::Material pinned = library.material(id);
  CHECK(pinned.pinned);
  CHECK(pinned.state == DownloadState::Downloaded);
  CHECK(pinned.stored_bytes == content.size());
  CHECK(files::read_file(library.local_path(id)) == content);
  CHECK(library.used_bytes() == content.size());
  CHECK(library.pin(id, world.transport, no_waiting()).skipped);

  library.unpin(id);
  CHECK_FALSE(library.material(id).pinned);
  CHECK(library.material(id).state == DownloadState::Downloaded);

  CHECK(library.evict(id) == content.size());
  CHECK(library.material(id).state == DownloadState::NotDownloaded);
  CHECK(library.used_bytes() == 0);
  CHECK_THROWS_AS(library.local_path(id), client::ClientError);
}

TEST_CASE("library: an interrupted download shows as partial, with what it holds") {
  LibraryWorld world;
  Library library(world.home);
  const client::Material photo = library.material(world.ids["photo.jpg"]);
  sync::BlobStore store(world.home.directory() + "/blobs");
  auto partial = store.open_partial(*world.registry.blobs->store().manifest(photo.info.sha256));
  partial->write_chunk(0, std::string(sync::kBlobChunkSize, '\x7f'));
  partial.reset();
  const client::Material shown = library.material(photo.id);
  CHECK(shown.state == DownloadState::Partial);
  CHECK(shown.stored_bytes == sync::kBlobChunkSize);
  library.pin(photo.id, world.transport, no_waiting());
  CHECK(library.material(photo.id).state == DownloadState::Downloaded);
}

TEST_CASE("library: a quota stops a download that does not fit, saying how much is needed") {
  LibraryWorld world;
  Library::set_quota(world.home, 100'000);
  Library library(world.home);
  CHECK_THROWS_WITH_AS(library.pin(world.ids["photo.jpg"], world.transport, no_waiting()),
                       "storage quota of 0.1 MB exceeded: need 0.2 MB, 0.1 MB free", sync::QuotaExceeded);
  CHECK(library.material(world.ids["photo.jpg"]).state == DownloadState::NotDownloaded);
}

TEST_CASE("library: a withdrawn material leaves the catalog, the search and the device") {
  LibraryWorld world;
  const std::string id = world.ids["workshop-planning.en.md"];
  {
    Library library(world.home);
    library.pin(id, world.transport, no_waiting());
    CHECK(world.found(library, "flip charts").size() == 1);
  }
  world.materials.remove(id);
  world.home.sync(world.transport);
  Library library(world.home);
  CHECK(library.catalog().size() == world.ids.size() - 1);
  CHECK(world.found(library, "flip charts").empty());
  CHECK(library.used_bytes() == 0);
  CHECK_THROWS_AS(library.material(id), client::ClientError);
}

// --- The command line

TEST_CASE("library: the CLI lists, searches, pins, opens, unpins and evicts") {
  LibraryWorld world;
  const client::TransportFactory in_process = [&](const std::string&) {
    return std::make_unique<InProcessTransport>(world.registry);
  };
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", world.home.directory()});
    std::ostringstream out, err;
    const int code = client::run_cli(args, out, err, in_process);
    INFO(err.str());
    CHECK(code == 0);
    return out.str();
  };
  std::istringstream listed(run({"materials"}));
  size_t lines = 0;
  for (std::string line; std::getline(listed, line); ++lines) {
    const Json material = Json::parse(line);
    CHECK(material.contains("title"));
    CHECK(material["state"] == "not_downloaded");
  }
  CHECK(lines == world.ids.size());

  const Json hit = Json::parse(run({"materials", "--search", "recopilacion datos", "--limit", "1"}));
  CHECK(hit["id"] == world.ids["safe-data-collection.es.md"]);
  CHECK(hit["lang"] == "es");
  CHECK(hit["snippet"].get<std::string>().find("**") != std::string::npos);

  const std::string id = world.ids["un-meeting-statement.en.md"];
  run({"pin", id});
  const std::string path = run({"open", id});
  CHECK(files::read_file(path.substr(0, path.size() - 1)) == files::read_file(kAssets + "un-meeting-statement.en.md"));
  const Json storage = Json::parse(run({"storage"}));
  CHECK(storage["materials"].size() == 1);
  CHECK(storage["materials"][0]["pinned"] == true);
  run({"unpin", id});
  run({"evict", id});
  CHECK(Json::parse(run({"storage"}))["used_bytes"] == 0);

  std::ostringstream out, err;
  CHECK(client::run_cli({"--home", world.home.directory(), "open", id}, out, err, in_process) == 1);
  CHECK(err.str().find("is not on this device") != std::string::npos);
}
