#include "common/http/static_files.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace andon::http {
namespace {

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::path(::testing::TempDir()) / "static_files_test";
    std::filesystem::create_directories(root_ / "assets");
    std::ofstream(root_ / "index.html") << "<html>";
    std::ofstream(root_ / "assets" / "app.js") << "let x;";
    std::ofstream(root_.parent_path() / "secret.txt") << "secret";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  Response Get(const std::string& path, bool* served) {
    Request q;
    q.method = "GET";
    q.path = path;
    Response r;
    *served = StaticFiles(root_.string()).Serve(q, r);
    return r;
  }

  std::filesystem::path root_;
};

TEST_F(StaticFilesTest, ServesIndexAndFilesWithTheirTypes) {
  bool served = false;
  Response index = Get("/", &served);
  ASSERT_TRUE(served);
  EXPECT_EQ(index.body, "<html>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  Response js = Get("/assets/app.js", &served);
  ASSERT_TRUE(served);
  EXPECT_EQ(js.body, "let x;");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_TRUE(StaticFiles(root_.string()).HasIndex());
}

TEST_F(StaticFilesTest, NeverLeavesItsDirectory) {
  bool served = true;
  Get("/../secret.txt", &served);
  EXPECT_FALSE(served);
  Get("/assets/../../secret.txt", &served);
  EXPECT_FALSE(served);
  Get("/assets", &served);  // a directory
  EXPECT_FALSE(served);
  Get("/missing.js", &served);
  EXPECT_FALSE(served);
}

}  // namespace
}  // namespace andon::http
