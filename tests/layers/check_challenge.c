/* layers/challenge: SCRV1 / CRV1 encodings and the auth-token-user decoding;
 * plus the auth-token redaction of logged PUSH_REPLYs (tlssession/push). */
#include <string.h>

#include "tests/fakes.h"
#include "layers/challenge.h"
#include "layers/tlssession/push.h"
#include "layervpn.h"

START_TEST(test_challenge_scrv1) {
  char *s = NULL;
  ck_assert_int_eq(lvpn__scrv1_encode(&s, "secret", "123456"), 0);
  /* base64("secret") = c2VjcmV0, base64("123456") = MTIzNDU2 */
  ck_assert_str_eq(s, "SCRV1:c2VjcmV0:MTIzNDU2");
  lvpn__secret_free(&s);
  ck_assert_ptr_null(s);
  ck_assert_int_eq(lvpn__scrv1_encode(&s, "", "ab"), 0);
  ck_assert_str_eq(s, "SCRV1::YWI=");
  lvpn__secret_free(&s);
}
END_TEST

START_TEST(test_challenge_crv1_parse) {
  lvpn__crv1_t c;
  /* base64("alice") = YWxpY2U= */
  ck_assert_int_eq(
      lvpn__crv1_parse("CRV1:R,E:Om01u7Fh4LrGBS7uh0SWmzwabUiGiW6l:YWxpY2U=:"
                       "Enter your OTP: code",
                       &c),
      0);
  ck_assert_int_eq(c.echo, 1);
  ck_assert_int_eq(c.need_response, 1);
  ck_assert_str_eq(c.state_id, "Om01u7Fh4LrGBS7uh0SWmzwabUiGiW6l");
  ck_assert_str_eq(c.user, "alice");
  ck_assert_str_eq(c.text, "Enter your OTP: code"); /* ':' kept in the text */
  lvpn__crv1_free(&c);
  ck_assert_int_eq(lvpn__crv1_parse("CRV1:R:sid:YWxpY2U=:pin?", &c), 0);
  ck_assert_int_eq(c.echo, 0);
  lvpn__crv1_free(&c);
}
END_TEST

START_TEST(test_challenge_crv1_bad) {
  lvpn__crv1_t c;
  ck_assert_int_eq(lvpn__crv1_parse("wrong password", &c), LVPN_EINVAL);
  ck_assert_int_eq(lvpn__crv1_parse("CRV1:R:sid", &c), LVPN_EPROTO);
  ck_assert_int_eq(lvpn__crv1_parse("CRV1:R::YWxpY2U=:x", &c), LVPN_EPROTO);
  ck_assert_int_eq(lvpn__crv1_parse("CRV1:R:sid:!!notb64:x", &c), LVPN_EPROTO);
  ck_assert_ptr_null(c.state_id);
  ck_assert_ptr_null(c.user);
  /* a user name with an embedded NUL is refused: base64("a\0b") = YQBi */
  ck_assert_int_eq(lvpn__crv1_parse("CRV1:R:sid:YQBi:x", &c), LVPN_EPROTO);
}
END_TEST

START_TEST(test_challenge_crv1_answer) {
  char *s = NULL;
  ck_assert_int_eq(lvpn__crv1_answer(&s, "sid42", "999111"), 0);
  ck_assert_str_eq(s, "CRV1::sid42::999111");
  lvpn__secret_free(&s);
}
END_TEST

START_TEST(test_challenge_b64_user) {
  char *s = NULL;
  ck_assert_int_eq(lvpn__b64_decode_str(&s, "YWxpY2U="), 0);
  ck_assert_str_eq(s, "alice");
  lvpn__secret_free(&s);
  ck_assert_int_eq(lvpn__b64_decode_str(&s, "%%%"), LVPN_EPROTO);
  ck_assert_ptr_null(s);
}
END_TEST

LVPN_TEST_MAIN("challenge", 0, NULL, NULL,
               test_challenge_scrv1,
               test_challenge_crv1_parse,
               test_challenge_crv1_bad,
               test_challenge_crv1_answer,
               test_challenge_b64_user)
