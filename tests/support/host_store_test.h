// A test suite that runs once per store kind (kStoreKinds): every HostProcess its tests start
// uses that store. Derive the suite's fixture from OnEachHostStore, write TEST_P, and
// instantiate it with SWITCHBOARD_ON_EACH_HOST_STORE(Suite); test names end in /sqlite and
// /postgresql.
#pragma once

#include "test_support.h"

#include <gtest/gtest.h>

#include <string>

namespace switchboard::test {

class OnEachHostStore : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { setHostStore(GetParam()); }
    void TearDown() override { setHostStore("sqlite"); }
};

}  // namespace switchboard::test

#define SWITCHBOARD_ON_EACH_HOST_STORE(Suite)                                                         \
    INSTANTIATE_TEST_SUITE_P(Engines, Suite, ::testing::ValuesIn(::switchboard::test::kStoreKinds), \
                             [](const auto& info) { return info.param; })
