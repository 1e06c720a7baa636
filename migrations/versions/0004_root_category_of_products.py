"""root category of products

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 20:24:11.797984

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Added nullable, filled from the category tree (two levels), then made required.
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('root_category_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE products SET root_category_id = COALESCE("
        "(SELECT categories.parent_id FROM categories WHERE categories.id = products.category_id),"
        " category_id)"
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.alter_column('root_category_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_products_status_root_price', ['status', 'root_category_id', 'price_vnd'], unique=False)
        batch_op.create_index('ix_products_status_root_published', ['status', 'root_category_id', 'published_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_products_root_category_id_categories'), 'categories', ['root_category_id'], ['id'])


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_products_root_category_id_categories'), type_='foreignkey')
        batch_op.drop_index('ix_products_status_root_published')
        batch_op.drop_index('ix_products_status_root_price')
        batch_op.drop_column('root_category_id')
