"""Stripe's webhook and return page, a shop's balance, and the admins' payouts."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from marketplace.core.forms import form_problem
from marketplace.core.security import require_admin
from marketplace.extensions import csrf, db
from marketplace.orders.models import Checkout
from marketplace.payments import gateway, ledger, services
from marketplace.payments.forms import PayoutForm
from marketplace.payments.models import LedgerKind
from marketplace.shops import acting
from marketplace.shops import services as shops
from marketplace.shops.models import Shop

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)


LEDGER_LABELS = {
    LedgerKind.SALE: _l("Delivered order"),
    LedgerKind.VAT: _l("VAT withheld"),
    LedgerKind.PIT: _l("Personal income tax withheld"),
    LedgerKind.REFUND: _l("Refund"),
    LedgerKind.PAYOUT: _l("Paid to your bank account"),
}


@bp.app_context_processor
def ledger_labels() -> dict[str, object]:
    return {"ledger_kind_label": lambda kind: LEDGER_LABELS[LedgerKind(kind)]}


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook() -> ResponseReturnValue:
    """Verify Stripe's signature on the raw body, then apply the event once."""
    try:
        event = gateway.verify_event(
            request.get_data(cache=False), request.headers.get("Stripe-Signature")
        )
    except gateway.BadEvent as error:
        log.warning("Stripe webhook refused: %s", error)
        return jsonify(error={"code": "bad_event", "message": str(error)}), 400
    except gateway.BadSignature as error:
        log.warning("Stripe webhook refused: %s", error)
        return jsonify(error={"code": "bad_signature", "message": "signature not valid"}), 400
    try:
        result = services.apply_event(event)
    except gateway.BadEvent as error:
        db.session.rollback()
        log.warning("Stripe event %s refused: %s", event.get("id"), error)
        return jsonify(error={"code": "bad_event", "message": str(error)}), 400
    db.session.commit()
    log.info("Stripe event %s (%s): %s", event.get("id"), event.get("type"), result)
    return jsonify(received=True, result=result)


@bp.get("/payments/stripe/return/<id:checkout_id>")
@login_required
def stripe_return(checkout_id: int) -> ResponseReturnValue:
    """Where Stripe sends the shopper back: the orders' real state, as the webhook left it."""
    record = db.session.get(Checkout, checkout_id)
    if record is None or record.buyer_id != current_user.id:
        abort(404)
    return render_template(
        "payments/return.html", checkout=record, payment=services.payment_of(record)
    )


@bp.get("/payments/stripe/return/<id:checkout_id>/state")
@login_required
def stripe_return_state(checkout_id: int) -> ResponseReturnValue:
    record = db.session.get(Checkout, checkout_id)
    if record is None or record.buyer_id != current_user.id:
        abort(404)
    return jsonify(
        orders=[
            {"number": o.number, "status": str(o.status), "payment_status": str(o.payment_status)}
            for o in record.orders
        ]
    )


@bp.get("/seller/balance")
@login_required
def balance() -> ResponseReturnValue:
    shop = shops.shop_of(acting.seller())
    if shop is None:
        abort(404)
    return render_template(
        "payments/balance.html",
        shop=shop,
        balance=ledger.balance(shop),
        entries=ledger.entries(shop),
    )


@bp.get("/admin/payouts")
@login_required
def payouts() -> ResponseReturnValue:
    require_admin()
    return render_template("payments/payouts.html", owed=ledger.payouts_due(), form=PayoutForm())


@bp.get("/admin/payouts.csv")
@login_required
def payouts_csv() -> ResponseReturnValue:
    require_admin()
    return Response(
        ledger.payout_sheet(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=payouts.csv"},
    )


@bp.post("/admin/payouts/<id:shop_id>")
@login_required
def record_payout(shop_id: int) -> ResponseReturnValue:
    require_admin()
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        abort(404)
    form = PayoutForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(form_problem(form), "error")
        return redirect(url_for("payments.payouts")), 303
    try:
        ledger.record_payout(
            shop,
            form.amount_vnd.data,
            by=current_user._get_current_object(),
            bank_reference=form.bank_reference.data or "",
        )
    except ledger.LedgerError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Payout to %(shop)s recorded.", shop=shop.name), "success")
    return redirect(url_for("payments.payouts")), 303
