/* POSIX half of the CA enrollment API (platform.h: cs_plat_adcs_call): AD CS's own
 * client is Windows'; elsewhere a CA helper does it (route = command). */
#include "../platform.h"

int cs_plat_adcs_call(int op, const char *ca_config, const char *csr_pem, const char *attributes, long request_id,
                      struct cs_ca_answer_s *ans, cs_err_t *err) {
  (void)op;
  (void)ca_config;
  (void)csr_pem;
  (void)attributes;
  (void)request_id;
  (void)ans;
  return cs_err_set(err, CS_EINVAL, 0,
                    "route adcs is Windows' own (ICertRequest): elsewhere use route = command with a CA helper");
}
