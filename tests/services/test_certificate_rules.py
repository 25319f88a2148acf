"""Certificate rules on the real database: immutability, products list, issuing kinds."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from traceapp.certificates.models import Category, CertificateImmutable, Product


def test_an_issued_certificate_cannot_be_edited(make, dbsession):
    certificate = make.certificate(make.member())
    certificate.quantity = Decimal("1")
    with pytest.raises(CertificateImmutable):
        dbsession.flush()


def test_quantities_keep_three_decimals_exactly(make, dbsession):
    certificate = make.certificate(make.member(), quantity=Decimal("0.125"))
    dbsession.expire_all()
    assert dbsession.get(type(certificate), certificate.id).quantity == Decimal("0.125")


def test_typed_products_join_the_organisations_list_with_their_category(make, dbsession):
    member = make.member()
    make.certificate(member, product_name="香菇", category=Category.EDIBLE_FUNGUS)
    again = make.certificate(member, product_name="香菇")
    product = dbsession.scalar(sa.select(Product).where(Product.org_id == member.org.id))
    assert (product.name, product.category) == ("香菇", Category.EDIBLE_FUNGUS)
    assert again.category is Category.EDIBLE_FUNGUS


def test_issue_time_is_timezone_aware_utc(make):
    certificate = make.certificate(make.member())
    assert certificate.issued_at.utcoffset().total_seconds() == 0
