from __future__ import annotations

from pathlib import Path

import pytest

from copilot.pii import ALL_KINDS, ARTICLE_KINDS, PLACEHOLDER_RE, redact, restore
from copilot.privacy.checksums import cn_ric_ok, iban_ok, luhn_ok, vn_citizen_id_plausible
from copilot.privacy.redteam import load_pii_cases

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "redteam" / "pii_v1.jsonl"


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        ("write to john.doe@example.com please", "EMAIL", "john.doe@example.com"),
        ("call me on +1 (415) 555-0132 tonight", "PHONE", "555-0132"),
        ("số điện thoại 0912 345 678 nhé", "PHONE", "0912 345 678"),
        ("电话13812345678", "PHONE", "13812345678"),
        ("card 4111 1111 1111 1111 was charged", "CARD_NUMBER", "4111 1111 1111 1111"),
        ("order #AB12345 is late", "ORDER_NUMBER", "AB12345"),
        ("order number 98765432 is late", "ORDER_NUMBER", "98765432"),
        ("mã đơn hàng 556677 chưa tới", "ORDER_NUMBER", "556677"),
        ("订单号123456789还没到", "ORDER_NUMBER", "123456789"),
        ("account number 12345678 locked", "ACCOUNT_NUMBER", "12345678"),
        ("I live at 221B Baker Street, London", "ADDRESS", "221B Baker Street"),
        ("giao tới số 12 đường Lê Lợi, Quận 1", "ADDRESS", "Lê Lợi"),
        ("Hi John, thanks", "NAME", "John"),
        ("@jane_smith help", "HANDLE", "@jane_smith"),
    ],
)
def test_redacts_each_kind_with_a_typed_placeholder(text: str, kind: str, secret: str) -> None:
    r = redact(text)
    assert secret not in r.text
    assert f"[{kind}]" in r.text


def test_keeps_amounts_dates_versions_and_non_luhn_numbers() -> None:
    text = "Refund of $49.99 within 30 days, on 2024-03-01, iOS 11.1.2, ref 1234 5678 9012 3456"
    r = redact(text)
    assert r.text == text
    assert r.entities == {}


def test_numbered_placeholders_restore_the_originals() -> None:
    text = "Email a@x.com or b@y.org, again a@x.com"
    r = redact(text, numbered=True)
    assert r.text == "Email [EMAIL_1] or [EMAIL_2], again [EMAIL_1]"
    assert restore(r.text, r.entities) == text
    assert r.counts == {"EMAIL": 2}


def test_articles_keep_company_contact_details() -> None:
    text = "Call 1-800-275-2273 or write to help@acme.example. Card 4111111111111111 is an example."
    r = redact(text, kinds=ARTICLE_KINDS)
    assert "1-800-275-2273" in r.text and "help@acme.example" in r.text
    assert "4111111111111111" not in r.text


def test_plain_text_of_a_numbered_redaction_equals_a_plain_redaction() -> None:
    text = "Hi John, mail a@x.com or b@y.org, again a@x.com; order #AB12345, call +1 415 555 0100"
    assert redact(text, numbered=True).plain_text == redact(text).text


# --- what issue 14 found leaking, one case each ----------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        # e-mails next to Chinese text, full-width, spelled out, internationalised
        ("我的邮箱是wangwei1988@qq.com，请发到这个邮箱。", "EMAIL", "wangwei1988@qq.com"),
        ("请联系我：lina_zhang@163.com谢谢", "EMAIL", "lina_zhang@163.com"),
        ("邮箱：chen.jie＠sina.com", "EMAIL", "chen.jie＠sina.com"),
        ("ｘｕｍｉｎｇ＠１６３．ｃｏｍ", "EMAIL", "ｘｕｍｉｎｇ"),
        ("Contact: priya_k (at) yahoo (dot) co (dot) uk", "EMAIL", "priya_k"),
        ("email me at d.okafor[at]protonmail[dot]com, thanks", "EMAIL", "d.okafor"),
        ("it's sam dot lee at gmail dot com", "EMAIL", "sam dot lee"),
        ("Reply to m.kowalski AT wp DOT pl please", "EMAIL", "m.kowalski"),
        ("my email is chris_obrien77 @ icloud.com", "EMAIL", "chris_obrien77"),
        ("email em là phamthu0312 a còng gmail chấm com ạ", "EMAIL", "phamthu0312"),
        ("Write to jürgen.müller@bücher-haus.de today", "EMAIL", "jürgen.müller@bücher-haus.de"),
        ("我的邮箱地址是 zhou.min@公司.中国，之前那个不用了。", "EMAIL", "zhou.min@公司.中国"),
        ("vip customer:lena.fischer@web.de", "EMAIL", "lena.fischer@web.de"),
        # names in signatures and self-introductions
        ("It broke.\n\nThanks,\nMaria Gonzalez", "NAME", "Maria Gonzalez"),
        ("Regards, Sofia Rossi", "NAME", "Sofia Rossi"),
        ("Hi Maria how are you", "NAME", "Maria"),
        ("My name is Daniel Okafor and I ordered a blender.", "NAME", "Daniel Okafor"),
        ("I'm Priya Raman, the account holder.", "NAME", "Priya Raman"),
        ("Chào anh Trần Quốc Bảo, bên em đã nhận được yêu cầu.", "NAME", "Trần Quốc Bảo"),
        ("Em tên là Nguyễn Thị Hoa, em đặt hàng hôm qua.", "NAME", "Nguyễn Thị Hoa"),
        ("我叫王伟，上周买的耳机坏了。", "NAME", "王伟"),
        ("我是李娜，订单一直没有更新。", "NAME", "李娜"),
        ("王先生您好，您的退款已处理。", "NAME", "王先生"),
        # street addresses in vi and zh
        ("Giao tới 45 Nguyễn Huệ, Quận 1 giúp em.", "ADDRESS", "45 Nguyễn Huệ"),
        ("giao về số 7 ngõ 34 phố Huế, Hà Nội", "ADDRESS", "số 7 ngõ 34"),
        ("地址：四川省成都市武侯区人民南路四段11号", "ADDRESS", "人民南路四段11号"),
        ("寄到北京市朝阳区建国路88号SOHO现代城2号楼1单元1001室", "ADDRESS", "1001室"),
        # IBANs after the keyword, of other countries, lower case
        ("IBAN: GB33 MIDL 4005 1571 8342 90", "IBAN", "MIDL 4005"),
        ("iban es60 0049 1500 0512 3456 7892 thanks", "IBAN", "es60 0049"),
        ("Use MT22 VALL 2201 3000 0000 4001 2345 678 (Malta)", "IBAN", "4001 2345 678"),
        ("NO1815032547168 is mine", "IBAN", "NO1815032547168"),
        # order numbers in free text
        ("Where is my order #113-9182736-4455667?", "ORDER_NUMBER", "113-9182736-4455667"),
        ("Refund for 113-5550192-7781203 please", "ORDER_NUMBER", "113-5550192-7781203"),
        ("order 482913 never arrived", "ORDER_NUMBER", "482913"),
        ("My order number is W58291734", "ORDER_NUMBER", "W58291734"),
        ("em đặt đơn #5567812 hôm thứ hai", "ORDER_NUMBER", "5567812"),
        # cards with dots, phones with slashes
        ("Card: 6011.1862.5276.0187", "CARD_NUMBER", "6011.1862.5276.0187"),
        ("reach me at 212/555/0176 before noon", "PHONE", "212/555/0176"),
        ("em để lại số 0912/876/543 rồi", "PHONE", "0912/876/543"),
        ("请拨打我的电话１３９０００１２３４５", "PHONE", "１３９０００１２３４５"),
        # not covered before: national ids, passports, IPs, dates of birth
        ("身份证号：110105198804121043", "NATIONAL_ID", "110105198804121043"),
        ("实名认证用的是11010819900317072X，一直提示不通过", "NATIONAL_ID", "11010819900317072X"),
        ("Số CCCD của em là 079192012345", "NATIONAL_ID", "079192012345"),
        ("CMND số 025123456", "NATIONAL_ID", "025123456"),
        ("my social security number is 536-22-8471", "NATIONAL_ID", "536-22-8471"),
        ("Passport number: C4729183", "PASSPORT", "C4729183"),
        ("Số hộ chiếu của em là B8372615", "PASSPORT", "B8372615"),
        ("我的护照号是EA4729183", "PASSPORT", "EA4729183"),
        ("The login came from 203.0.113.45, that wasn't me.", "IP_ADDRESS", "203.0.113.45"),
        ("登录地址 240e:3b4:38c0:1a0::5 异常", "IP_ADDRESS", "240e:3b4:38c0:1a0::5"),
        ("DOB: 14/03/1987", "DATE_OF_BIRTH", "14/03/1987"),
        ("I was born on March 3, 1985, the account says 1986.", "DATE_OF_BIRTH", "March 3, 1985"),
        ("em sinh ngày 12 tháng 8 năm 1998", "DATE_OF_BIRTH", "12 tháng 8 năm 1998"),
        ("出生日期：1988年4月12日", "DATE_OF_BIRTH", "1988年4月12日"),
    ],
)
def test_redacts_what_used_to_leak(text: str, kind: str, secret: str) -> None:
    r = redact(text)
    assert secret not in r.text
    assert f"[{kind}]" in r.text, r.text


@pytest.mark.parametrize(
    "text",
    [
        "I was charged $500 instead of $50, then 1,299.00 USD.",
        "Em bị trừ 5.000.000đ, tổng đơn 25.990.000 VND, nạp 15000000 VND.",
        "价格 ¥2,999，实际扣了￥3,299。",
        "I ordered on 2024-03-15 and delivery was promised for 15/03/2024 at 14:30.",
        "2024年3月15日下单，下午3:30打过电话。",
        "My iPhone 15 Pro Max and PS5 controller, Galaxy S24 Ultra 512GB, RTX 4090.",
        "Windows update fails with error 0x80070005; ASIN B09G9FPHY6; model SM-G991B.",
        "The 20% off code, 99.9% uptime, v2.3.1, iOS 17.4.1, build 10.0.19045.2965.",
        "I received 3 items on the way back; refunds take 3-5 business days.",
        "Open the router at 192.168.1.1, subnet 255.255.255.0, port 8080.",
        "Hi team, I'm not sure I bought it at amazon.com. Thanks, Acme Support",
        "我是高级会员，我叫了快递，客服电话是多少？",
        "Chào anh chị, em là khách hàng mới. Em ở Quận 1, tầng 5.",
        # shapes that real support text showed (our own sentences)
        "我是商家，想开通收款。我是全额还款的。",
        "Cảm ơn anh. Trân trọng!",
        "Chào chị Theo chính sách thì được đổi trong 7 ngày.",
        "Theo Điều 8 Luật Bảo vệ người tiêu dùng, vaccine COVID-19 Bộ Y tế khuyến cáo.",
        "My blood pressure was 125-135/85-95 yesterday.",
        "Everyone was mad at me.sorry for the rant",
        "I AM MISSING MONEY FROM MY ACCOUNT",
        "I missed the 18:05 Bristol Parkway train.",
        "Xem Mục 3.1.2.4 của hợp đồng; ping 1.1.1.1 vẫn được.",
        "Hi, Yesterday my card was declined.",
    ],
)
def test_look_alikes_survive(text: str) -> None:
    assert redact(text).text == text


def test_a_handle_does_not_pull_the_numbers_after_it_into_a_phone_number() -> None:
    assert redact("@448812 1/2 Sorry for the wait").text == "[HANDLE] 1/2 Sorry for the wait"


def test_numbered_placeholders_are_per_value_and_per_kind_in_order_of_appearance() -> None:
    text = "Call 0912 345 678 or +84 912 345 679; again 0912 345 678. IBAN DE44 5001 0517 5407 3249 31."
    r = redact(text, numbered=True)
    assert r.text == "Call [PHONE_1] or [PHONE_2]; again [PHONE_1]. IBAN [IBAN_1]."
    assert r.entities["[IBAN_1]"] == "DE44 5001 0517 5407 3249 31"
    assert restore(r.text, r.entities) == text


def test_a_number_two_detectors_see_becomes_one_placeholder_of_the_stronger_kind() -> None:
    # 16 Luhn-valid digits also look like a phone number to the phone detector.
    r = redact("card 4526 0181 5908 3012 please", numbered=True)
    assert r.text == "card [CARD_NUMBER_1] please"


def test_every_kind_has_a_placeholder_the_llm_path_can_restore() -> None:
    for kind in ALL_KINDS:
        assert PLACEHOLDER_RE.fullmatch(f"[{kind}_12]") and PLACEHOLDER_RE.fullmatch(f"[{kind}]")
    assert restore("[NATIONAL_ID_1] and [IBAN_2] and [EMAIL_9]", {"[NATIONAL_ID_1]": "a", "[IBAN_2]": "b"}) == \
        "a and b and [EMAIL_9]"


def test_articles_keep_brand_contacts_but_lose_customer_identifiers() -> None:
    text = ("Call 1-800-275-2273, write to help@acme.example, visit 1187 Maple Avenue. "
            "Example customer: DOB 14/03/1987, passport C4729183, CCCD 079192012345, "
            "IBAN DE44 5001 0517 5407 3249 31.")
    r = redact(text, kinds=ARTICLE_KINDS)
    for kept in ("1-800-275-2273", "help@acme.example", "1187 Maple Avenue"):
        assert kept in r.text
    for gone in ("14/03/1987", "C4729183", "079192012345", "DE44"):
        assert gone not in r.text


def test_check_digits() -> None:
    assert luhn_ok("4526018159083012") and not luhn_ok("4526018159083013")
    assert iban_ok("DE44500105175407324931") and not iban_ok("DE44500105175407324932")
    assert not iban_ok("DE4450010517540732493")  # one character short for Germany
    assert not iban_ok("XX44500105175407324931")  # no such country
    assert cn_ric_ok("11010819900317072X") and cn_ric_ok("11010819900317072x")
    assert not cn_ric_ok("110108199003170721")
    assert vn_citizen_id_plausible("079192012345") and not vn_citizen_id_plausible("099192012345")


def test_check_digits_decide_without_a_keyword() -> None:
    assert redact("ref 4526018159083013 for you").text == "ref 4526018159083013 for you"  # Luhn fails
    # Printed in a card's groups, it is a (mistyped) card whatever its check digit.
    assert redact("ref 4526 0181 5908 3013 for you").text == "ref [CARD_NUMBER] for you"
    assert "[IBAN]" not in redact("code DE44 5001 0517 5407 3249 32").text  # mod-97 fails
    assert "[NATIONAL_ID]" not in redact("编号110108199003170721").text  # check character fails
    # After a keyword, a mistyped number is redacted all the same.
    assert redact("card number 4526 0181 5908 3013").text == "card number [CARD_NUMBER]"
    assert redact("IBAN DE44 5001 0517 5407 3249 32").text == "IBAN [IBAN]"


def test_redaction_is_idempotent_and_restores_exactly_on_the_red_team_corpus() -> None:
    for case in load_pii_cases(CORPUS):
        once = redact(case.text)
        assert redact(once.text).text == once.text, case.id
        numbered = redact(case.text, numbered=True)
        assert restore(numbered.text, numbered.entities) == case.text, case.id
        assert numbered.plain_text == once.text, case.id


def test_huge_and_odd_input_is_handled() -> None:
    assert redact("").text == ""
    odd = "\ud800 \x00 \u200b" + "é" * 1000 + "\U0001f600"
    assert redact(odd).text == odd
    long_digits = "1" * 5000
    assert redact(long_digits).text == long_digits
