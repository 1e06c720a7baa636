from sqlalchemy import func, select

from marketplace.accounts import services
from marketplace.accounts.models import Role, User
from marketplace.demo import seed
from marketplace.extensions import db


def _accounts() -> list[tuple[str, str, str, str]]:
    rows = db.session.execute(
        select(User.email, User.full_name, User.phone, User.role).order_by(User.id)
    )
    return [tuple(row) for row in rows]


def test_seed_demo_creates_the_provinces_member_accounts(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(User)) >= 460
    admins = db.session.scalars(select(User).where(User.role == Role.ADMIN)).all()
    assert [admin.email for admin in admins] == [seed.ADMIN_EMAIL]
    assert services.authenticate(seed.ADMIN_EMAIL, seed.DEMO_PASSWORD).is_admin


def test_demo_accounts_have_vietnamese_names_and_valid_phones(app):
    seed.seed_demo()
    db.session.commit()

    users = db.session.scalars(select(User)).all()
    assert len({user.email for user in users}) == len(users)
    assert all(services.normalise_phone(user.phone) == user.phone for user in users)
    assert sum(user.full_name.startswith("Nguyễn ") for user in users) > 50
    assert any("ư" in user.full_name or "ơ" in user.full_name for user in users)


def test_seed_demo_is_deterministic(app):
    seed.seed_demo()
    db.session.commit()
    first = _accounts()
    db.session.execute(User.__table__.delete())
    db.session.commit()

    seed.seed_demo()
    db.session.commit()

    assert _accounts() == first


def test_seed_demo_leaves_a_database_with_data_alone(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    before = db.session.scalar(select(func.count()).select_from(User))

    result = runner.invoke(args=["seed-demo"])

    assert "already has data" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == before
