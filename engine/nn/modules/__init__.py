"""engine.nn modules: the Module core and the containers (torch.nn.modules)."""
from engine.nn.modules.container import ModuleDict, ModuleList, Sequential  # noqa: F401
from engine.nn.modules.module import Module  # noqa: F401
from engine.nn.modules.activation import *  # noqa: F401,F403,E402
from engine.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d  # noqa: F401,E402
from engine.nn.modules.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401,E402
from engine.nn.modules.dropout import Dropout  # noqa: F401,E402
from engine.nn.modules.flatten import Flatten, Unflatten  # noqa: F401,E402
from engine.nn.modules.linear import Bilinear, Identity, Linear  # noqa: F401,E402
from engine.nn.modules.loss import *  # noqa: F401,F403,E402
from engine.nn.modules.normalization import GroupNorm, LayerNorm  # noqa: F401,E402
from engine.nn.modules.pooling import *  # noqa: F401,F403,E402
from engine.nn.modules.rnn import GRU, LSTM, RNN, RNNBase  # noqa: F401,E402
from engine.nn.modules.sparse import Embedding  # noqa: F401,E402
from engine.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d  # noqa: F401,E402
from engine.nn.modules.padding import *  # noqa: F401,F403,E402
from engine.nn.modules.rnn import GRUCell, LSTMCell, RNNCell, RNNCellBase  # noqa: F401,E402
from engine.nn.modules.normalization import RMSNorm  # noqa: F401,E402
from engine.nn.modules.pooling import LPPool1d, LPPool2d  # noqa: F401,E402
from engine.nn.modules.normalization import LocalResponseNorm  # noqa: F401,E402
from engine.nn.modules.attention import MultiheadAttention  # noqa: F401,E402
from engine.nn.modules.transformer import *  # noqa: F401,F403,E402
from engine.nn.modules.batchnorm import BatchNorm3d  # noqa: F401,E402
from engine.nn.modules.instancenorm import InstanceNorm3d  # noqa: F401,E402
