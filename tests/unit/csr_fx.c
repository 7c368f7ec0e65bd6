/* What the request tests share (csr_fx.h). */
#include "csr_fx.h"

#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
#endif

#include "cs_test.h"
#include "platform.h"
#include "text.h"

static cs_config_t cfg_;
static char dir_[512];

const cs_config_t *csr_setup(void) {
  CHECK_INT(cs_config_defaults(&cfg_), ==, CS_OK);
  cs_test_mkdtemp("cs-csr", dir_, sizeof dir_);
  free(cfg_.store.state_dir);
  cfg_.store.state_dir = cs_strdup(cs_test_join(dir_, "state"));
  free(cfg_.connector.account);
  cfg_.connector.account = cs_strdup("NT SERVICE\\BOARD Connector Service");
  return &cfg_;
}

cs_config_t *csr_cfg(void) { return &cfg_; }
const char *csr_dir(void) { return dir_; }

void csr_teardown(void) {
  CHECK_INT(cs_plat_remove_tree(dir_, NULL), ==, CS_OK);
  cs_config_free(&cfg_);
}

int csr_under_wine(void) {
#ifdef _WIN32
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
#else
  return 0;
#endif
}
