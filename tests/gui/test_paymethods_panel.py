"""The Summary tab's Pay methods panel (K2, C4) through the real client
window: a card added through its dialog (after the vault passphrase) is
listed masked, the default first and marked; its full number shows only
after the passphrase (a wrong one is said in the dialog, which stays);
Make default moves the mark; Delete asks and removes; a gateway-token
record is offered Force delete, which says nothing runs on the gateway;
the first card sets the vault passphrase; an archived client's panel
cannot add or delete but still shows. No security code field anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMessageBox, QWidget

from billdesk.services import changelog, paymethods, vault
from billdesk.views.paymethods_panel import (
    BankDialog,
    CardDialog,
    PassphraseDialog,
    RevealDialog,
)

from gui_helpers import click, type_into, wait_for

YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
PASSPHRASE = "correct horse battery"
CHEAP = vault.KdfParams(1024, 1, 1)
NUMBER = "4242424242424242"


@pytest.fixture(autouse=True)
def no_key_left() -> Iterator[None]:
    """The remembered key is process-wide: none before or after a test."""
    vault.forget()
    yield
    vault.forget()


@pytest.fixture
def with_vault(client_book: int) -> int:
    """``client_book`` with a vault passphrase set (cheap Argon2), locked."""
    vault.set_passphrase(PASSPHRASE, params=CHEAP)
    vault.forget()
    return client_book


def rows(panel) -> list[str]:  # noqa: ANN001
    """The panel's lines as shown: the mark, the masked number, the expiry."""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", panel.list.text()):
        cells = [re.sub(r"<[^>]+>", "", cell).strip()
                 for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        found.append(" | ".join(c for c in cells if c))
    return found


def everything_shown(widget: QWidget) -> str:
    """Every text and tooltip of the widget and its labels and fields."""
    parts = [widget.toolTip()]
    for child in [widget, *widget.findChildren(QWidget)]:
        parts.append(child.toolTip())
        if isinstance(child, (QLabel, QLineEdit)):
            parts.append(child.text())
    return "\n".join(parts)


def dialog_of(qtbot, panel, kind):  # noqa: ANN001, ANN201
    """The panel's dialog of that kind, once it is on screen."""
    return wait_for(qtbot, lambda: isinstance(panel.dialog, kind) and panel.dialog.isVisible()
                    and panel.dialog)


def enter_passphrase(qtbot, dialog: PassphraseDialog, passphrase: str) -> None:  # noqa: ANN001
    type_into(qtbot, dialog.field("passphrase"), passphrase)
    click(qtbot, dialog.save_button)


def wrong_then_right(qtbot, panel) -> None:  # noqa: ANN001
    """Enter a wrong passphrase (said beside the field, the dialog stays),
    then the right one."""
    dialog = dialog_of(qtbot, panel, PassphraseDialog)
    assert dialog.mode == "unlock"
    assert dialog.field("passphrase").echoMode() == QLineEdit.EchoMode.Password
    enter_passphrase(qtbot, dialog, "not the passphrase")
    problem = dialog.form.fields["passphrase"].problem
    wait_for(qtbot, lambda: problem.isVisible() and dialog.save_button.isEnabled())
    assert problem.text() == "wrong passphrase"
    assert dialog.isVisible() and vault.unlocked() is None
    enter_passphrase(qtbot, dialog, PASSPHRASE)
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())


def trigger(panel, pay_method_id: int, action: str) -> None:  # noqa: ANN001
    """Choose one of a pay method's actions, as a click on it offers them."""
    menu = panel.menu_for(pay_method_id)
    found = next(a for a in menu.actions() if a.objectName() == action)
    assert found.isEnabled(), action
    found.trigger()


def vault_action(panel, name: str):  # noqa: ANN001, ANN201
    """One of the actions a click on the vault's state offers."""
    return next(a for a in panel.vault_actions().actions() if a.objectName() == name)


def action_enabled(panel, pay_method_id: int, action: str) -> bool:  # noqa: ANN001
    menu = panel.menu_for(pay_method_id)
    return next(a for a in menu.actions() if a.objectName() == action).isEnabled()


def test_add_a_card_see_it_masked_reveal_it_with_the_passphrase(qtbot, with_vault,  # noqa: ANN001
                                                                 window) -> None:
    panel = window.summary.pay_methods
    assert panel.isVisible() and panel.title() == "Pay methods"
    assert "No pay methods yet" in panel.list.text()
    assert "Locked" in panel.vault_status.text()

    # Add card… asks for the passphrase first (a wrong one is said inline)
    click(qtbot, panel.add_card_button)
    wrong_then_right(qtbot, panel)
    card = dialog_of(qtbot, panel, CardDialog)
    assert vault.unlocked() is not None
    # no security code anywhere: just these fields
    assert set(card.form.fields) == {"card", "expiry", "holder", "description", "make_default"}
    assert not re.search(r"cvv|cvc|security code:", everything_shown(card), re.IGNORECASE)
    assert card.form.fields["holder"].widget.text() == "Grace Hopper"

    # a refused number is said beside its field, the dialog stays
    type_into(qtbot, card.form.fields["card"].widget, "4242 4242 4242 4241")
    type_into(qtbot, card.form.fields["expiry"].widget, "13/39")
    click(qtbot, card.save_button)
    assert card.form.fields["card"].problem.isVisible()
    assert "Luhn" in card.form.fields["card"].problem.text()
    assert card.form.fields["expiry"].problem.isVisible()
    assert card.isVisible() and paymethods.list_pay_methods(window.client_id) == []
    type_into(qtbot, card.form.fields["expiry"].widget, "12/39")  # (said again as typed)
    assert not card.form.fields["expiry"].problem.isVisible()

    type_into(qtbot, card.form.fields["card"].widget, "4242 4242 4242 4242")
    type_into(qtbot, card.form.fields["description"].widget, "Company card")
    click(qtbot, card.save_button)
    wait_for(qtbot, lambda: len(rows(panel)) == 1)
    [record] = paymethods.list_pay_methods(window.client_id)
    assert record.is_default and record.last_four == "4242" and record.has_number
    [line] = rows(panel)
    assert line.startswith("★") and record.masked in line and "12/39" in line
    shown = everything_shown(panel)
    assert NUMBER not in shown and "4242 4242 4242 4242" not in shown
    assert "Unlocked" in panel.vault_status.text()
    assert any("card" in entry.message.lower() for entry in changelog.entries(window.client_id))

    # forget the passphrase (a click on "Unlocked" offers it): the full number asks again
    vault_action(panel, "forgetPassphrase").trigger()
    wait_for(qtbot, lambda: "Locked" in panel.vault_status.text())
    assert vault.unlocked() is None
    trigger(panel, record.id, "revealAction")
    wrong_then_right(qtbot, panel)
    reveal = dialog_of(qtbot, panel, RevealDialog)
    assert reveal.number.text().replace(" ", "") == NUMBER
    assert reveal.number.isReadOnly()
    click(qtbot, reveal.copy)
    assert QApplication.clipboard().text().replace(" ", "") == NUMBER
    reveal.reject()
    # the panel itself still shows it masked
    assert NUMBER not in everything_shown(panel)

    # unlocked now: the next one shows at once
    trigger(panel, record.id, "revealAction")
    wait_for(qtbot, lambda: isinstance(panel.dialog, RevealDialog) and panel.dialog is not reveal
             and shiboken6.isValid(panel.dialog) and panel.dialog.isVisible())
    panel.dialog.reject()


def test_make_default_delete_and_a_bank_account(qtbot, with_vault, window, answers  # noqa: ANN001
                                                ) -> None:
    panel = window.summary.pay_methods
    vault.remember(vault.unlock(PASSPHRASE))
    card_id = paymethods.add_card(window.client_id, number="5555 5555 5555 4444", expiry="10/38",
                                  holder="Grace Hopper", key=vault.unlocked()).id
    window.reload()
    assert len(rows(panel)) == 1

    # Add bank account… at once (the vault is unlocked)
    click(qtbot, panel.add_bank_button)
    bank = dialog_of(qtbot, panel, BankDialog)
    assert set(bank.form.fields) == {"bank", "bank_name", "holder", "description",
                                     "make_default"}
    type_into(qtbot, bank.form.fields["bank"].widget, "GB29 NWBK 6016 1331 9268 19")
    type_into(qtbot, bank.form.fields["bank_name"].widget, "NatWest")
    click(qtbot, bank.save_button)
    wait_for(qtbot, lambda: len(rows(panel)) == 2)
    card, account = paymethods.list_pay_methods(window.client_id)
    assert card.id == card_id and card.is_default and account.kind == "bank"
    assert rows(panel)[0].startswith("★") and not rows(panel)[1].startswith("★")
    assert "NatWest" in rows(panel)[1]
    assert "NWBK60161331926819" not in everything_shown(panel)
    assert not action_enabled(panel, card_id, "makeDefaultAction")  # it is already

    # Make default: the bank account goes first, marked
    trigger(panel, account.id, "makeDefaultAction")
    wait_for(qtbot, lambda: paymethods.list_pay_methods(window.client_id)[0].id == account.id
             and rows(panel)[0].startswith("★") and "NatWest" in rows(panel)[0])
    assert not rows(panel)[1].startswith("★")

    # Delete… asks; No keeps it
    answers.replies = [NO]
    trigger(panel, card_id, "deleteAction")
    qtbot.wait(100)
    assert len(paymethods.list_pay_methods(window.client_id)) == 2
    assert "Delete" in answers.said[-1]
    # Yes removes it
    trigger(panel, card_id, "deleteAction")
    wait_for(qtbot, lambda: len(rows(panel)) == 1)
    assert [r.id for r in paymethods.list_pay_methods(window.client_id)] == [account.id]


def test_a_gateway_token_is_force_deleted(qtbot, with_vault, window, answers) -> None:  # noqa: ANN001
    panel = window.summary.pay_methods
    token_id = paymethods.add_token(window.client_id, gateway="Stripe", token="pm_1Nx0Token",
                                    holder="Grace Hopper", brand="Visa", last_four="4444").id
    window.reload()
    [line] = rows(panel)
    assert "token" in line and "4444" in line
    assert "pm_1Nx0Token" not in panel.list.text()
    # its full number is not stored here: nothing to show
    assert not action_enabled(panel, token_id, "revealAction")

    # Delete is refused for a token record; Force delete is offered and
    # says nothing is run on the gateway
    trigger(panel, token_id, "deleteAction")
    wait_for(qtbot, lambda: len(answers.said) == 2)
    assert "Force delete" in answers.said[1] and "nothing is run on Stripe" in answers.said[1]
    wait_for(qtbot, lambda: "No pay methods yet" in panel.list.text())
    assert paymethods.list_pay_methods(window.client_id) == []


def test_a_refused_force_delete_keeps_the_token(qtbot, with_vault, window, answers) -> None:  # noqa: ANN001
    panel = window.summary.pay_methods
    paymethods.add_token(window.client_id, gateway="Stripe", token="pm_2", holder="Grace Hopper",
                         last_four="1111")
    window.reload()
    [record] = panel.records
    answers.replies = [YES, NO]  # delete: yes; force delete: no
    trigger(panel, record.id, "deleteAction")
    wait_for(qtbot, lambda: len(answers.said) == 2)
    qtbot.wait(100)
    assert [r.id for r in paymethods.list_pay_methods(window.client_id)] == [record.id]
    assert len(rows(panel)) == 1


def test_the_first_card_sets_the_vault_passphrase(qtbot, window) -> None:  # noqa: ANN001
    panel = window.summary.pay_methods
    panel.kdf_params = CHEAP
    assert not vault.is_set() and not panel.vault_status.isVisible()
    click(qtbot, panel.add_card_button)
    dialog = dialog_of(qtbot, panel, PassphraseDialog)
    assert dialog.mode == "set"
    assert "cannot be recovered" in dialog.intro.text() and "never stored" in dialog.intro.text()
    new, confirm = dialog.field("passphrase"), dialog.field("confirm")
    assert new.echoMode() == confirm.echoMode() == QLineEdit.EchoMode.Password
    # too short, then not the same twice: said beside the field, nothing set
    type_into(qtbot, new, "short")
    type_into(qtbot, confirm, "short")
    click(qtbot, dialog.save_button)
    assert dialog.form.fields["passphrase"].problem.isVisible()
    type_into(qtbot, new, "a long passphrase")
    type_into(qtbot, confirm, "a long passphrasE")
    click(qtbot, dialog.save_button)
    assert dialog.form.fields["confirm"].problem.isVisible()
    assert not vault.is_set()
    type_into(qtbot, confirm, "a long passphrase")
    click(qtbot, dialog.save_button)
    card = dialog_of(qtbot, panel, CardDialog)
    assert vault.is_set() and vault.unlocked() is not None
    card.reject()
    wait_for(qtbot, lambda: "Unlocked" in panel.vault_status.text())
    vault.forget()
    assert vault.unlock("a long passphrase") is not None


def test_change_the_vault_passphrase(qtbot, with_vault, window) -> None:  # noqa: ANN001
    panel = window.summary.pay_methods
    panel.kdf_params = CHEAP
    vault_action(panel, "changePassphrase").trigger()
    dialog = dialog_of(qtbot, panel, PassphraseDialog)
    assert dialog.mode == "change"
    type_into(qtbot, dialog.field("old"), "not it at all")
    type_into(qtbot, dialog.field("passphrase"), "the new passphrase")
    type_into(qtbot, dialog.field("confirm"), "the new passphrase")
    click(qtbot, dialog.save_button)
    problem = dialog.form.fields["old"].problem
    wait_for(qtbot, lambda: problem.isVisible() and dialog.save_button.isEnabled())
    assert problem.text() == "wrong passphrase" and dialog.isVisible()
    type_into(qtbot, dialog.field("old"), PASSPHRASE)
    click(qtbot, dialog.save_button)
    wait_for(qtbot, lambda: "Unlocked" in panel.vault_status.text())
    vault.forget()
    assert vault.unlock("the new passphrase") is not None


def test_expired_cards_are_marked(qtbot, with_vault, window) -> None:  # noqa: ANN001
    from billdesk.models import PayMethod

    panel = window.summary.pay_methods
    token_id = paymethods.add_token(window.client_id, gateway="Stripe", token="pm_old",
                                    holder="Grace Hopper", last_four="0005").id
    PayMethod.update(expiry="2020-01").where(PayMethod.id == token_id).execute()
    window.reload()
    [line] = rows(panel)
    assert "Expired 01/20" in line
    assert "color:#c62828'>Expired" in panel.list.text().replace('"', "'")


def test_the_panel_is_under_contacts_and_whole_in_the_left_column(qtbot, with_vault,  # noqa: ANN001
                                                                  window) -> None:
    """JOURNEYS 3: the left column holds Client information, Contacts and
    Pay methods. Narrow as it is, the panel shows each number, its expiry
    (or bank) and both Add buttons whole."""
    panel = window.summary.pay_methods
    key = vault.unlock(PASSPHRASE)
    paymethods.add_card(window.client_id, number="4111 1111 1111 1111", expiry="12/39",
                        holder="Grace Hopper", key=key)
    paymethods.add_bank(window.client_id, account="GB29 NWBK 6016 1331 9268 19",
                        bank_name="NatWest", holder="Grace Hopper", key=key)
    window.reload()
    contacts = window.summary.contact_list.parentWidget()
    wait_for(qtbot, lambda: panel.isVisible() and panel.width() > 0)
    assert panel.x() == contacts.x() and panel.y() > contacts.y()  # under Contacts
    assert panel.x() < window.summary.billing.x()  # left of the billing panel
    assert rows(panel) == ["★ | Visa 411111******1111expires 12/39",
                           "Account ****6819NatWest"]
    for button in (panel.add_card_button, panel.add_bank_button):
        assert button.width() >= button.sizeHint().width()  # its text whole
        assert button.geometry().right() <= panel.contentsRect().right()


def test_an_archived_clients_panel_shows_but_does_not_change(qtbot, with_vault, window,  # noqa: ANN001
                                                            answers) -> None:
    from billdesk.models import Client

    panel = window.summary.pay_methods
    vault.remember(vault.unlock(PASSPHRASE))
    card_id = paymethods.add_card(window.client_id, number="4242424242424242", expiry="01/39",
                                  holder="Grace Hopper", key=vault.unlocked()).id
    Client.update(archived=True).where(Client.id == window.client_id).execute()
    window.reload()
    assert len(rows(panel)) == 1
    assert not panel.add_card_button.isEnabled() and not panel.add_bank_button.isEnabled()
    assert not action_enabled(panel, card_id, "deleteAction")
    assert action_enabled(panel, card_id, "revealAction")  # showing changes nothing
    panel.add_card()  # refused even if reached
    panel.delete(card_id)
    assert answers.said and "archived" in answers.said[-1]
    assert panel.dialog is None
    assert len(paymethods.list_pay_methods(window.client_id)) == 1

    Client.update(archived=False).where(Client.id == window.client_id).execute()
    window.reload()
    assert panel.add_card_button.isEnabled() and action_enabled(panel, card_id, "deleteAction")
