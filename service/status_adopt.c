/* `certsteward status`: the adoption's candidates (status_adopt.h). */
#include "status_adopt.h"

#include "adopt_pick.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_status_adopt_gather(cs_status_adopt_t *a, const cs_config_t *cfg, const char *tp_in_service) {
  memset(a, 0, sizeof *a);
  a->cfg = cfg;
  snprintf(a->tp, sizeof a->tp, "%s", tp_in_service ? tp_in_service : "");
  if (!cfg->store.adopt)
    return;
  if (cs_plat_store_is_system())
    a->source = cs_plat_store_name(cfg);
  else
    a->source = cfg->store.adopt_from;
  if ((a->on = a->source != NULL) == 0)
    return;
  (void)cs_adopted_read(cfg->store.state_dir, &a->rec, &a->rec_err);
  if (cs_plat_store_is_system())
    (void)cs_plat_store_list(cfg, &a->certs, &a->n, &a->list_err);
}

static int judged_cb(const char *tp, const void *arg) { return cs_adopted_find(arg, tp) != NULL; }

int cs_status_adopt_why(const cs_status_adopt_t *a, size_t i, char *buf, size_t len) {
  const cs_adopted_entry_t *e = cs_adopted_find(&a->rec, a->certs[i].tp);
  cs_pick_t w = cs_pick_one(a->certs, a->n, i, a->tp, judged_cb, &a->rec);
  char renewed[41];
  if (w == CS_PICK_CANDIDATE) {
    cs_pick_renewed(a->certs, a->n, a->tp, renewed);
    snprintf(buf, len, "candidate%s: checked at the service's next look",
             strcmp(renewed, a->certs[i].tp) == 0 ? " (the renewal link of the one in service leads to it)" : "");
    return 1;
  }
  if (w == CS_PICK_JUDGED && strcmp(e->verdict, CS_ADOPT_OTHER_HOST) == 0)
    snprintf(buf, len, "not a candidate: not for this host");
  else if (w == CS_PICK_JUDGED)
    snprintf(buf, len, "%s%s%s", e->verdict, e->reason[0] ? ": " : "", e->reason);
  else if (w == CS_PICK_IN_SERVICE)
    snprintf(buf, len, "%s", cs_pick_text(w));
  else
    snprintf(buf, len, "not a candidate: %s", cs_pick_text(w));
  return 0;
}

/* The last version of the folder that was judged, NULL when none. */
static const cs_adopted_entry_t *last_judged(const cs_status_adopt_t *a) {
  return a->rec.n > 0 ? &a->rec.v[a->rec.n - 1] : NULL;
}

void cs_status_adopt_text(cs_buf_t *b, const cs_status_adopt_t *a, int width) {
  char why[800];
  size_t i, shown = 0;
  if (!a->on) {
    cs_text_line(b, width, "adoption",
                 a->cfg->store.adopt ? "none ([store] adopt_from not set)" : "off ([store] adopt)", NULL);
    return;
  }
  cs_text_line(b, width, "adoption", "from ", a->source, NULL);
  if (a->rec_err.code != CS_OK)
    cs_text_line(b, width, "", "what was judged cannot be read: ", a->rec_err.text, NULL);
  if (!cs_plat_store_is_system()) {
    const cs_adopted_entry_t *e = last_judged(a);
    if (e == NULL)
      cs_text_line(b, width, "", "no version judged yet", NULL);
    else
      cs_text_line(b, width, "", "last version: ", e->verdict, e->tp[0] ? " " : "", e->tp, e->reason[0] ? ": " : "",
                   e->reason, NULL);
    return;
  }
  if (a->list_err.code != CS_OK) {
    cs_text_line(b, width, "", "cannot be listed: ", a->list_err.text, NULL);
    return;
  }
  for (i = 0; i < a->n; i++) {
    if (strcmp(a->certs[i].tp, a->tp) == 0)
      continue;
    (void)cs_status_adopt_why(a, i, why, sizeof why);
    cs_text_line(b, width, "", a->certs[i].tp, " ", why, NULL);
    shown++;
  }
  if (shown == 0)
    cs_text_line(b, width, "", "no other certificate in the store", NULL);
}

void cs_status_adopt_json(cs_buf_t *b, const cs_status_adopt_t *a) {
  char why[800];
  size_t i;
  if (!a->on) {
    cs_buf_puts(b, "null");
    return;
  }
  cs_buf_puts(b, "{\"source\":");
  cs_json_str(b, a->source);
  cs_buf_puts(b, ",\"error\":");
  cs_json_str(b, a->rec_err.code != CS_OK ? a->rec_err.text : a->list_err.code != CS_OK ? a->list_err.text : NULL);
  cs_buf_puts(b, ",\"certificates\":[");
  for (i = 0; i < a->n; i++) {
    int cand = cs_status_adopt_why(a, i, why, sizeof why);
    cs_buf_puts(b, i ? ",{\"thumbprint\":" : "{\"thumbprint\":");
    cs_json_str(b, a->certs[i].tp);
    cs_buf_puts(b, ",\"subject\":");
    cs_json_str(b, a->certs[i].subject);
    cs_buf_printf(b, ",\"not_after\":%lld,\"candidate\":%s,\"why\":", a->certs[i].not_after, cand ? "true" : "false");
    cs_json_str(b, why);
    cs_buf_puts(b, "}");
  }
  cs_buf_puts(b, "],\"judged\":[");
  for (i = 0; i < a->rec.n; i++) {
    const cs_adopted_entry_t *e = &a->rec.v[i];
    cs_buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
    cs_json_str(b, e->key);
    cs_buf_puts(b, ",\"verdict\":");
    cs_json_str(b, e->verdict);
    cs_buf_printf(b, ",\"time\":%lld,\"thumbprint\":", e->time);
    cs_json_str(b, e->tp[0] ? e->tp : NULL);
    cs_buf_puts(b, ",\"reason\":");
    cs_json_str(b, e->reason[0] ? e->reason : NULL);
    cs_buf_puts(b, "}");
  }
  cs_buf_puts(b, "]}");
}

void cs_status_adopt_free(cs_status_adopt_t *a) {
  cs_adopted_free(&a->rec);
  cs_plat_store_list_free(a->certs, a->n);
  memset(a, 0, sizeof *a);
}
