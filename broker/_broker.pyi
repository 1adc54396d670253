"""Type stub of broker._broker, the C++ extension (generated with
pybind11-stubgen, then flattened: the `zeek` submodule is typed as Any).
Use `import broker`."""
from __future__ import annotations

import collections.abc
import typing

zeek: typing.Any
__all__: list[str] = ['Backend', 'BrokerOptions', 'Configuration', 'Data', 'EC', 'EndpointInfo', 'Error', 'NetworkInfo', 'OptionalNetworkInfo', 'OverflowPolicy', 'PeerFlags', 'PeerInfo', 'PeerStatus', 'SC', 'Status', 'Topic', 'zeek']
_version: str
_protocol_version: int
class EC:
    """
    Broker's error codes (real Broker's values).
    
    Members:
    
      None_
    
      Unspecified
    
      PeerIncompatible
    
      PeerInvalid
    
      PeerUnavailable
    
      PeerDisconnectDuringHandshake
    
      PeerTimeout
    
      MasterExists
    
      NoSuchMaster
    
      NoSuchKey
    
      RequestTimeOut
    
      RequestTimeout
    
      TypeClash
    
      InvalidData
    
      BackendFailure
    
      StaleData
    
      CannotOpenFile
    
      CannotWriteFile
    
      InvalidTopicKey
    
      EndOfFile
    
      InvalidTag
    
      InvalidMessage
    
      InvalidStatus
    
      ConversionFailed
    
      ConsumerExists
    
      ConnectionTimeout
    
      BadMemberFunctionCall
    
      RepeatedRequestId
    
      BrokenClone
    
      ShuttingDown
    
      InvalidPeeringRequest
    
      RepeatedPeeringHandshakeRequest
    
      UnexpectedHandshakeMessage
    
      InvalidHandshakeState
    
      NoPathToPeer
    
      NoConnectorAvailable
    
      CannotOpenResource
    
      SerializationFailed
    
      DeserializationFailed
    
      WrongMagicNumber
    
      RedundantConnection
    
      LogicError
    
      InvalidJson
    """
    BackendFailure: typing.ClassVar[EC]
    BadMemberFunctionCall: typing.ClassVar[EC]
    BrokenClone: typing.ClassVar[EC]
    CannotOpenFile: typing.ClassVar[EC]
    CannotOpenResource: typing.ClassVar[EC]
    CannotWriteFile: typing.ClassVar[EC]
    ConnectionTimeout: typing.ClassVar[EC]
    ConsumerExists: typing.ClassVar[EC]
    ConversionFailed: typing.ClassVar[EC]
    DeserializationFailed: typing.ClassVar[EC]
    EndOfFile: typing.ClassVar[EC]
    InvalidData: typing.ClassVar[EC]
    InvalidHandshakeState: typing.ClassVar[EC]
    InvalidJson: typing.ClassVar[EC]
    InvalidMessage: typing.ClassVar[EC]
    InvalidPeeringRequest: typing.ClassVar[EC]
    InvalidStatus: typing.ClassVar[EC]
    InvalidTag: typing.ClassVar[EC]
    InvalidTopicKey: typing.ClassVar[EC]
    LogicError: typing.ClassVar[EC]
    MasterExists: typing.ClassVar[EC]
    NoConnectorAvailable: typing.ClassVar[EC]
    NoPathToPeer: typing.ClassVar[EC]
    NoSuchKey: typing.ClassVar[EC]
    NoSuchMaster: typing.ClassVar[EC]
    None_: typing.ClassVar[EC]
    PeerDisconnectDuringHandshake: typing.ClassVar[EC]
    PeerIncompatible: typing.ClassVar[EC]
    PeerInvalid: typing.ClassVar[EC]
    PeerTimeout: typing.ClassVar[EC]
    PeerUnavailable: typing.ClassVar[EC]
    RedundantConnection: typing.ClassVar[EC]
    RepeatedPeeringHandshakeRequest: typing.ClassVar[EC]
    RepeatedRequestId: typing.ClassVar[EC]
    RequestTimeOut: typing.ClassVar[EC]
    RequestTimeout: typing.ClassVar[EC]
    SerializationFailed: typing.ClassVar[EC]
    ShuttingDown: typing.ClassVar[EC]
    StaleData: typing.ClassVar[EC]
    TypeClash: typing.ClassVar[EC]
    UnexpectedHandshakeMessage: typing.ClassVar[EC]
    Unspecified: typing.ClassVar[EC]
    WrongMagicNumber: typing.ClassVar[EC]
    __members__: typing.ClassVar[dict[str, EC]]
    @typing.overload
    def __eq__(self, other: EC) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: EC) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Topic:
    """
    A /-separated topic string.
    """
    @staticmethod
    def is_reserved(arg0: str) -> bool:
        ...
    def __eq__(self, arg0: Topic) -> bool:
        ...
    def __hash__(self) -> int:
        ...
    def __init__(self, topic: str = '') -> None:
        ...
    def __lt__(self, arg0: Topic) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __str__(self) -> str:
        ...
    @typing.overload
    def __truediv__(self, arg0: Topic) -> Topic:
        ...
    @typing.overload
    def __truediv__(self, arg0: str) -> Topic:
        ...
    @typing.overload
    def prefix_of(self, other: str) -> bool:
        """
        Whether a subscription to this topic receives messages on `other`.
        """
    @typing.overload
    def prefix_of(self, other: Topic) -> bool:
        ...
    def string(self) -> str:
        ...
class Data:
    """
    A Broker value (SPEC §2).
    """
    class Type:
        """
        Members:
        
          Nil
        
          None
        
          Boolean
        
          Count
        
          Integer
        
          Real
        
          String
        
          Address
        
          Subnet
        
          Port
        
          Timestamp
        
          Timespan
        
          EnumValue
        
          Set
        
          Table
        
          Vector
        """
        Address: typing.ClassVar[Data.Type]
        Boolean: typing.ClassVar[Data.Type]
        Count: typing.ClassVar[Data.Type]
        EnumValue: typing.ClassVar[Data.Type]
        Integer: typing.ClassVar[Data.Type]
        Nil: typing.ClassVar[Data.Type]
        # Real Broker's alias of Nil; reach it as getattr(Data.Type, "None").
        Port: typing.ClassVar[Data.Type]
        Real: typing.ClassVar[Data.Type]
        Set: typing.ClassVar[Data.Type]
        String: typing.ClassVar[Data.Type]
        Subnet: typing.ClassVar[Data.Type]
        Table: typing.ClassVar[Data.Type]
        Timespan: typing.ClassVar[Data.Type]
        Timestamp: typing.ClassVar[Data.Type]
        Vector: typing.ClassVar[Data.Type]
        __members__: typing.ClassVar[dict[str, Data.Type]]
        @typing.overload
        def __eq__(self, other: Data.Type) -> bool:
            ...
        @typing.overload
        def __eq__(self, other: typing.Any) -> bool:
            ...
        def __getstate__(self) -> int:
            ...
        def __hash__(self) -> int:
            ...
        def __index__(self) -> int:
            ...
        def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
            ...
        def __int__(self) -> int:
            ...
        @typing.overload
        def __ne__(self, other: Data.Type) -> bool:
            ...
        @typing.overload
        def __ne__(self, other: typing.Any) -> bool:
            ...
        def __repr__(self) -> str:
            ...
        def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
            ...
        def __str__(self) -> str:
            ...
        @property
        def name(self) -> str:
            ...
        @property
        def value(self) -> int:
            ...
    @staticmethod
    def from_bytes(data: bytes) -> Data:
        """
        Decodes the wire format v1 encoding.
        """
    @staticmethod
    def from_json(text: str) -> Data:
        """
        Decodes the WebSocket API's JSON encoding.
        """
    @staticmethod
    def from_py(x: typing.Any) -> Data:
        """
        Converts a Python value to Data.
        """
    def __eq__(self, arg0: Data) -> bool:
        ...
    def __ge__(self, arg0: Data) -> bool:
        ...
    def __gt__(self, arg0: Data) -> bool:
        ...
    def __hash__(self) -> int:
        ...
    def __init__(self, x: typing.Any = None) -> None:
        ...
    def __le__(self, arg0: Data) -> bool:
        ...
    def __lt__(self, arg0: Data) -> bool:
        ...
    def __ne__(self, arg0: Data) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __str__(self) -> str:
        ...
    def get_type(self) -> Data.Type:
        ...
    def _elements(self) -> list:
        """
        The elements of a set or vector (Data), or (key, value) pairs of a table, in Broker's order.
        """
    def _nanoseconds(self) -> int:
        """
        Nanoseconds of a timespan, or since the epoch of a timestamp.
        """
    # Real Broker's accessors, attached by broker/_compat.py. Each raises
    # TypeError (also a RuntimeError) when the value has another type.
    def as_none(self) -> None:
        ...
    def as_boolean(self) -> bool:
        ...
    def as_count(self) -> int:
        ...
    def as_integer(self) -> int:
        ...
    def as_real(self) -> float:
        ...
    def as_string(self) -> bytes:
        ...
    def as_address(self) -> typing.Any:
        """broker.Address"""
    def as_subnet(self) -> typing.Any:
        """broker.Subnet"""
    def as_port(self) -> typing.Any:
        """broker.Port"""
    def as_timestamp(self) -> float:
        ...
    def as_timespan(self) -> float:
        ...
    def as_enum_value(self) -> typing.Any:
        """broker.Enum"""
    def as_set(self) -> typing.Any:
        """broker.Set"""
    def as_table(self) -> typing.Any:
        """broker.Table"""
    def as_vector(self) -> typing.Any:
        """broker.Vector"""
    def to_bytes(self) -> bytes:
        """
        The wire format v1 encoding.
        """
    def to_json(self) -> str:
        """
        The WebSocket API's JSON encoding.
        """
    def to_py(self, safe: bool = False) -> typing.Any:
        """
        Converts to Python; safe=True returns hashable, immutable forms.
        """
class SC:
    """
    Status codes (real Broker's values).
    
    Members:
    
      Unspecified
    
      PeerAdded
    
      PeerRemoved
    
      PeerLost
    
      EndpointDiscovered
    
      EndpointUnreachable
    """
    EndpointDiscovered: typing.ClassVar[SC]
    EndpointUnreachable: typing.ClassVar[SC]
    PeerAdded: typing.ClassVar[SC]
    PeerLost: typing.ClassVar[SC]
    PeerRemoved: typing.ClassVar[SC]
    Unspecified: typing.ClassVar[SC]
    __members__: typing.ClassVar[dict[str, SC]]
    @typing.overload
    def __eq__(self, other: SC) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: SC) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class PeerStatus:
    """
    Members:
    
      Initialized
    
      Connecting
    
      Connected
    
      Peered
    
      Disconnected
    
      Reconnecting
    """
    Connected: typing.ClassVar[PeerStatus]
    Connecting: typing.ClassVar[PeerStatus]
    Disconnected: typing.ClassVar[PeerStatus]
    Initialized: typing.ClassVar[PeerStatus]
    Peered: typing.ClassVar[PeerStatus]
    Reconnecting: typing.ClassVar[PeerStatus]
    __members__: typing.ClassVar[dict[str, PeerStatus]]
    @typing.overload
    def __eq__(self, other: PeerStatus) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: PeerStatus) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class PeerFlags:
    """
    Members:
    
      Invalid
    
      Local
    
      Remote
    
      Outbound
    
      Inbound
    """
    Inbound: typing.ClassVar[PeerFlags]
    Invalid: typing.ClassVar[PeerFlags]
    Local: typing.ClassVar[PeerFlags]
    Outbound: typing.ClassVar[PeerFlags]
    Remote: typing.ClassVar[PeerFlags]
    __members__: typing.ClassVar[dict[str, PeerFlags]]
    @typing.overload
    def __and__(self, other: PeerFlags) -> int:
        ...
    @typing.overload
    def __and__(self, other: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    @typing.overload
    def __eq__(self, other: PeerFlags) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    @typing.overload
    def __ge__(self, other: PeerFlags) -> bool:
        ...
    @typing.overload
    def __ge__(self, other: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    @typing.overload
    def __gt__(self, other: PeerFlags) -> bool:
        ...
    @typing.overload
    def __gt__(self, other: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    def __invert__(self) -> typing.Any:
        ...
    @typing.overload
    def __le__(self, other: PeerFlags) -> bool:
        ...
    @typing.overload
    def __le__(self, other: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    @typing.overload
    def __lt__(self, other: PeerFlags) -> bool:
        ...
    @typing.overload
    def __lt__(self, other: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: PeerFlags) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    @typing.overload
    def __or__(self, other: PeerFlags) -> int:
        ...
    @typing.overload
    def __or__(self, other: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    @typing.overload
    def __rand__(self, other: PeerFlags) -> int:
        ...
    @typing.overload
    def __rand__(self, other: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    def __repr__(self) -> str:
        ...
    @typing.overload
    def __ror__(self, other: PeerFlags) -> int:
        ...
    @typing.overload
    def __ror__(self, other: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    @typing.overload
    def __rxor__(self, other: PeerFlags) -> int:
        ...
    @typing.overload
    def __rxor__(self, other: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @typing.overload
    def __xor__(self, other: PeerFlags) -> int:
        ...
    @typing.overload
    def __xor__(self, other: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class NetworkInfo:
    def __init__(self) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def address(self) -> str:
        ...
    @property
    def port(self) -> int:
        ...
    @property
    def retry(self) -> float:
        ...
class OptionalNetworkInfo:
    """
    Network information, when known.
    """
    def __bool__(self) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def get(self) -> NetworkInfo:
        """
        The NetworkInfo; raises ValueError when there is none.
        """
    def is_set(self) -> bool:
        ...
    @property
    def address(self) -> str:
        ...
    @property
    def port(self) -> int:
        ...
    @property
    def retry(self) -> float:
        ...
class EndpointInfo:
    def __repr__(self) -> str:
        ...
    def node_id(self) -> str:
        ...
    @property
    def network(self) -> OptionalNetworkInfo:
        ...
    @property
    def node(self) -> str:
        ...
    @property
    def type(self) -> str:
        """
        "native" for a Broker endpoint, "invalid" when none is named.
        """
class PeerInfo:
    @property
    def flags(self) -> PeerFlags:
        ...
    @property
    def peer(self) -> EndpointInfo:
        ...
    @property
    def status(self) -> PeerStatus:
        ...
class Status:
    """
    A change in the network.
    """
    def __repr__(self) -> str:
        ...
    def code(self) -> SC:
        ...
    def context(self) -> EndpointInfo:
        ...
    def message(self) -> str:
        ...
class Error:
    """
    An error status.
    """
    def __repr__(self) -> str:
        ...
    def code(self) -> EC:
        ...
    def context(self) -> EndpointInfo:
        ...
    def message(self) -> str:
        ...
class OverflowPolicy:
    """
    Members:
    
      Disconnect
    
      DropOldest
    
      DropNewest
    """
    Disconnect: typing.ClassVar[OverflowPolicy]
    DropNewest: typing.ClassVar[OverflowPolicy]
    DropOldest: typing.ClassVar[OverflowPolicy]
    __members__: typing.ClassVar[dict[str, OverflowPolicy]]
    @typing.overload
    def __eq__(self, other: OverflowPolicy) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: OverflowPolicy) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class BrokerOptions:
    disable_forwarding: bool
    disable_ssl: bool
    forward: bool
    ignore_broker_conf: bool
    peer_overflow_policy: OverflowPolicy
    use_real_time: bool
    def __init__(self) -> None:
        ...
    @property
    def bye_timeout(self) -> float:
        ...
    @bye_timeout.setter
    def bye_timeout(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def peer_full_grace(self) -> float:
        """Seconds a peer's buffer may stay full while others have room, before its overflow policy applies."""
    @peer_full_grace.setter
    def peer_full_grace(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def publish_stall_timeout(self) -> float:
        """Seconds a publisher waits while every peer its message goes to is full, before their overflow policy applies."""
    @publish_stall_timeout.setter
    def publish_stall_timeout(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def max_pending_connections(self) -> int:
        """Accepted connections that may be in their handshake at once; beyond it the oldest is dropped."""
    @max_pending_connections.setter
    def max_pending_connections(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def handshake_timeout(self) -> float:
        """Seconds a new connection may take for its TLS and Broker handshakes."""
    @handshake_timeout.setter
    def handshake_timeout(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def peer_buffer_size(self) -> int:
        ...
    @peer_buffer_size.setter
    def peer_buffer_size(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    web_socket_overflow_policy: OverflowPolicy
    @property
    def web_socket_buffer_size(self) -> int:
        """Messages buffered per WebSocket connection before web_socket_overflow_policy applies."""
    @web_socket_buffer_size.setter
    def web_socket_buffer_size(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def web_socket_max_message_size(self) -> int:
        """Largest message in bytes a WebSocket client may send; a larger one closes its connection with 1009."""
    @web_socket_max_message_size.setter
    def web_socket_max_message_size(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def web_socket_max_clients(self) -> int:
        """WebSocket clients served at once; further connections are refused."""
    @web_socket_max_clients.setter
    def web_socket_max_clients(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def web_socket_ping_interval(self) -> float:
        """Seconds between PINGs to WebSocket peers; one unanswered when the next is due closes the connection. 0 disables."""
    @web_socket_ping_interval.setter
    def web_socket_ping_interval(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def ttl(self) -> int:
        ...
    @ttl.setter
    def ttl(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class Configuration:
    openssl_cafile: str
    openssl_capath: str
    openssl_certificate: str
    openssl_key: str
    openssl_passphrase: str
    options: BrokerOptions
    @typing.overload
    def __init__(self) -> None:
        ...
    @typing.overload
    def __init__(self, options: BrokerOptions) -> None:
        ...
    @property
    def max_threads(self) -> int:
        """
        Upper bound on the threads processing messages (default 1). An endpoint uses one I/O thread, so any positive value is met.
        """
    @max_threads.setter
    def max_threads(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class _Subscriber:
    def add_topic(self, topic: typing.Any, block: bool = False) -> None:
        ...
    def available(self) -> int:
        ...
    def capacity(self) -> int:
        ...
    def fd(self) -> int:
        ...
    def get(self, timeout: typing.SupportsFloat | typing.SupportsIndex | None = None) -> typing.Any:
        ...
    def get_n(self, n: typing.SupportsInt | typing.SupportsIndex, timeout: typing.SupportsFloat | typing.SupportsIndex | None = None) -> list:
        ...
    def poll(self) -> list:
        ...
    def remove_topic(self, topic: typing.Any, block: bool = False) -> None:
        ...
    def reset(self) -> None:
        ...
class _StatusSubscriber:
    def available(self) -> int:
        ...
    def fd(self) -> int:
        ...
    def get(self, timeout: typing.SupportsFloat | typing.SupportsIndex | None = None) -> typing.Any:
        ...
    def get_n(self, n: typing.SupportsInt | typing.SupportsIndex, timeout: typing.SupportsFloat | typing.SupportsIndex | None = None) -> list:
        ...
    def poll(self) -> list:
        ...
    def reset(self) -> None:
        ...
class _Endpoint:
    def __init__(self, config: Configuration) -> None:
        ...
    def await_peer(self, node: str, timeout: typing.SupportsFloat | typing.SupportsIndex | None = None) -> bool:
        ...
    def buffered(self) -> int:
        ...
    def capacity(self) -> int:
        ...
    def forward(self, topics: typing.Any) -> None:
        ...
    def is_shut_down(self) -> bool:
        ...
    def listen(self, address: str = '', port: typing.SupportsInt | typing.SupportsIndex = 0) -> int:
        ...
    def make_status_subscriber(self, receive_statuses: bool = False) -> _StatusSubscriber:
        ...
    def make_subscriber(self, topics: typing.Any, qsize: typing.SupportsInt | typing.SupportsIndex = 20, safe: bool = False) -> _Subscriber:
        ...
    def node_id(self) -> str:
        ...
    def peer(self, address: str, port: typing.SupportsInt | typing.SupportsIndex, retry: typing.SupportsFloat | typing.SupportsIndex = 10.0) -> bool:
        ...
    def peer_nosync(self, address: str, port: typing.SupportsInt | typing.SupportsIndex, retry: typing.SupportsFloat | typing.SupportsIndex = 10.0) -> None:
        ...
    def peer_subscriptions(self) -> list[str]:
        ...
    def peers(self) -> list[PeerInfo]:
        ...
    def publish(self, topic: typing.Any, data: typing.Any, receiver: str | None = None) -> bool:
        ...
    def publish_batch(self, pairs: collections.abc.Iterable) -> bool:
        ...
    def publish_fd(self) -> int:
        ...
    def shutdown(self) -> None:
        ...
    def unpeer(self, address: str, port: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def unpeer_nosync(self, address: str, port: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def web_socket_listen(self, address: str = '', port: typing.SupportsInt | typing.SupportsIndex = 0, events_only: bool = False) -> int:
        ...
    def web_socket_peer(self, url: str, retry: typing.SupportsFloat | typing.SupportsIndex = 10.0) -> bool:
        ...
    def web_socket_unpeer(self, url: str) -> bool:
        ...
class Backend:
    """
    Members:
    
      Memory
    
      SQLite
    
      RocksDB
    """
    Memory: typing.ClassVar[Backend]
    RocksDB: typing.ClassVar[Backend]
    SQLite: typing.ClassVar[Backend]
    __members__: typing.ClassVar[dict[str, Backend]]
    @typing.overload
    def __eq__(self, other: Backend) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Backend) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class _Store:
    def append(self, key: typing.Any, s: typing.Any, expiry: typing.Any = None) -> None:
        ...
    def await_idle(self, timeout: typing.SupportsFloat | typing.SupportsIndex | None = None) -> bool:
        ...
    def clear(self) -> None:
        ...
    def decrement(self, key: typing.Any, amount: typing.Any, expiry: typing.Any = None) -> None:
        ...
    def erase(self, arg0: typing.Any) -> None:
        ...
    def exists(self, arg0: typing.Any) -> bool:
        ...
    def get(self, key: typing.Any, default: typing.Any = None) -> typing.Any:
        ...
    def get_index_from_value(self, key: typing.Any, index: typing.Any, default: typing.Any = None) -> typing.Any:
        ...
    def increment(self, key: typing.Any, amount: typing.Any, expiry: typing.Any = None) -> None:
        ...
    def insert_into(self, key: typing.Any, index: typing.Any, value: typing.Any, expiry: typing.Any, has_value: bool) -> None:
        ...
    def is_master(self) -> bool:
        ...
    def keys(self) -> typing.Any:
        ...
    def name(self) -> str:
        ...
    def pop(self, key: typing.Any, expiry: typing.Any = None) -> None:
        ...
    def push(self, key: typing.Any, value: typing.Any, expiry: typing.Any = None) -> None:
        ...
    def put(self, key: typing.Any, value: typing.Any, expiry: typing.Any = None) -> None:
        ...
    def put_unique(self, key: typing.Any, value: typing.Any, expiry: typing.Any = None) -> bool:
        ...
    def remove_from(self, key: typing.Any, index: typing.Any, expiry: typing.Any = None) -> None:
        ...
    def reset(self) -> None:
        ...
def _attach_clone(endpoint: _Endpoint, name: str, resync_interval: typing.SupportsFloat | typing.SupportsIndex, stale_interval: typing.SupportsFloat | typing.SupportsIndex, mutation_buffer_interval: typing.SupportsFloat | typing.SupportsIndex) -> _Store:
    ...
def _attach_master(endpoint: _Endpoint, name: str, backend: Backend, options: dict) -> tuple:
    ...
def _register_value_holders(classes: typing.Any) -> None:
    """
    Tells the converter the classes that hold their value in `_value`.
    """
def _register_types(arg0: typing.Any, arg1: typing.Any, arg2: typing.Any, arg3: typing.Any, arg4: typing.Any, arg5: typing.Any, arg6: typing.Any) -> None:
    """
    Tells the converter the Python classes of broker/_values.py.
    """
