/* `certsteward status`: the certificate request in flight ([request]): its key's name,
 * state, route, the CA's request id, since when, the next look and when it is given up;
 * or why none is. Read-only, crypto-free. */
#include "status_request.h"

#include <string.h>

#include "request.h"

void cs_status_request_text(cs_buf_t *b, const cs_config_t *cfg, int width) {
  cs_request_t r;
  cs_err_t err;
  char made[40], next[40], until[40], days[16];
  int rc = cs_request_read(cfg->store.state_dir, &r, &err);
  if (rc == CS_ENOENT) {
    snprintf(days, sizeof days, "%d", cfg->request.renew_days);
    if (cfg->request.renew_days == 0)
      cs_text_line(b, width, "request", "off ([request] renew_days not set)", NULL);
    else
      cs_text_line(b, width, "request", "none in flight; one is made ", days,
                   " days before the certificate in service expires", NULL);
    return;
  }
  if (rc != CS_OK) {
    cs_text_line(b, width, "request", "cannot be read: ", err.text, NULL);
    return;
  }
  cs_text_line(b, width, "request", r.name, ": ", r.state, " (route ", r.route, r.ca_id ? ", CA request " : "",
               r.ca_id ? r.ca_id : "", ")", NULL);
  cs_text_line(b, width, "", "made ", cs_time_utc(r.made, made, sizeof made), ", given up after ",
               cs_time_utc(r.deadline, until, sizeof until), NULL);
  if (strcmp(r.state, CS_REQ_PENDING) == 0 || strcmp(r.state, CS_REQ_MADE) == 0)
    cs_text_line(b, width, "", "next look ", cs_time_utc(r.next, next, sizeof next), NULL);
  else if (strcmp(r.state, CS_REQ_OUTBOX) == 0)
    cs_text_line(b, width, "", "in the outbox: submit it to your CA, drop the certificate it returns", NULL);
  else if (strcmp(r.state, CS_REQ_HELD) == 0)
    cs_text_line(b, width, "", "issued ", r.new_tp, " but not put in service: see the events, then certsteward apply",
                 NULL);
  if (r.said != NULL && strcmp(r.said, "pending") != 0)
    cs_text_line(b, width, "", "last said: ", r.said, NULL);
  cs_request_free(&r);
}

void cs_status_request_json(cs_buf_t *b, const cs_config_t *cfg) {
  cs_request_t r;
  cs_err_t err;
  int rc = cs_request_read(cfg->store.state_dir, &r, &err);
  cs_buf_printf(b, "{\"renew_days\":%d,\"in_flight\":", cfg->request.renew_days);
  if (rc != CS_OK) {
    cs_buf_puts(b, "null,\"error\":");
    cs_json_str(b, rc == CS_ENOENT ? NULL : err.text);
    cs_buf_puts(b, "}");
    return;
  }
  cs_buf_puts(b, "{\"name\":");
  cs_json_str(b, r.name);
  cs_buf_puts(b, ",\"state\":");
  cs_json_str(b, r.state);
  cs_buf_puts(b, ",\"route\":");
  cs_json_str(b, r.route);
  cs_buf_puts(b, ",\"ca_request\":");
  cs_json_str(b, r.ca_id);
  cs_buf_printf(b, ",\"made\":%lld,\"submitted\":%lld,\"next\":%lld,\"deadline\":%lld,\"tries\":%d,\"issued\":", r.made,
                r.submitted, r.next, r.deadline, r.tries);
  cs_json_str(b, r.new_tp[0] ? r.new_tp : NULL);
  cs_buf_puts(b, ",\"last_said\":");
  cs_json_str(b, r.said);
  cs_buf_puts(b, "},\"error\":null}");
  cs_request_free(&r);
}
